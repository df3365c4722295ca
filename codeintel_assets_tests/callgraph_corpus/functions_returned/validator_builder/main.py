"""Closures built by factories and combined: the combined check calls each part."""
from functions_returned__validator_builder.checks import all_of, in_range, not_zero


def main():
    valid = all_of(in_range(-5, 5), not_zero)
    print([v for v in range(-6, 7) if valid(v)])


if __name__ == "__main__":
    main()
