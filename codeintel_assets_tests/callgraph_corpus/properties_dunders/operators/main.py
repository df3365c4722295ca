"""Operator dunders run by `+`, `*`, `==`, abs() and repr() are implicit edges; an explicit
`v.__add__(w)` is an ordinary call site."""
from properties_dunders__operators.vector import Vector


def main():
    v, w = Vector(1, 2), Vector(3, 4)
    total = v + w
    print(total == Vector(4, 6), abs(w * 2), repr(total))
    print(v.__add__(w).dot(v))


if __name__ == "__main__":
    main()
