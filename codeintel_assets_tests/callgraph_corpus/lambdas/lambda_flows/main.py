"""Lambdas bound to a name, passed, returned, stored in a dict and returning a function: the
calls in their bodies belong to the enclosing def; a function a lambda returns is called."""


def double(x):
    return x * 2


def square(x):
    return x * x


def add(a, b):
    return a + b


def apply(fn, value):
    return fn(value)


def make_adder(n):
    return lambda x: add(x, n)


HANDLERS = {"double": lambda v: double(v), "square": square}


def main():
    twice = lambda v: double(double(v))  # noqa: E731
    print(twice(2), apply(lambda v: square(v), 3))
    adder = make_adder(5)
    print(adder(1), HANDLERS["double"](4), HANDLERS["square"](2))
    pick = lambda: square  # noqa: E731
    print(pick()(6))


if __name__ == "__main__":
    main()
