"""Lambdas as default arguments (their calls belong to the scope where the def is evaluated)
and a lambda bound to a name in a function."""
ERRORS = []


def record(error):
    ERRORS.append(str(error))
    return None


def parse_int(text, on_error=lambda exc: record(exc)):
    try:
        return int(text)
    except ValueError as exc:
        return on_error(exc)


def parse_all(values):
    fallback = lambda exc: record(exc) or -1  # noqa: E731 (a named lambda, as people write)
    return [parse_int(v, fallback) for v in values]


def main():
    print(parse_int("12"), parse_int("x"), parse_all(["3", "y"]), ERRORS)


if __name__ == "__main__":
    main()
