"""Instances with __call__: `obj(x)` is a call site whose callee is the class's __call__."""
from properties_dunders__callable_objects.pipeline import Chain, Offset, Scale


def main():
    double = Scale(2)
    print(double(21))
    to_fahrenheit = Chain(Scale(9 / 5), Offset(32))
    print(to_fahrenheit(100))


if __name__ == "__main__":
    main()
