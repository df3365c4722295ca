"""Evaluate nested tuples like ("+", 1, ("*", 2, 3)) recursively."""


def evaluate(node):
    if isinstance(node, int):
        return node
    op, left, right = node
    return apply_op(op, evaluate(left), evaluate(right))


def apply_op(op, a, b):
    if op == "+":
        return a + b
    if op == "*":
        return a * b
    raise ValueError(f"unknown operator {op!r}")


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def main():
    total = evaluate(("+", 1, ("*", 2, 3)))
    parity = "even" if is_even(total) else "odd"
    print(total, parity)


if __name__ == "__main__":
    main()
