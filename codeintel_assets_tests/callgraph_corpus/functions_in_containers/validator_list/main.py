"""A list of validator functions iterated and called, and a tuple of (name, function) pairs."""


def not_empty(value):
    return bool(value.strip())


def short(value):
    return len(value) <= 8


def lowercase(value):
    return value == value.lower()


VALIDATORS = [not_empty, short]
NAMED = (("lowercase", lowercase), ("short", short))


def validate(value):
    failed = [check.__name__ for check in VALIDATORS if not check(value)]
    for name, check in NAMED:
        if not check(value):
            failed.append(name)
    return failed


def main():
    print(validate("Username12"), validate("ok"))


if __name__ == "__main__":
    main()
