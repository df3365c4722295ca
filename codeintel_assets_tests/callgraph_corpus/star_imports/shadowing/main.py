"""A star import one of whose names is then redefined locally: the call reaches the local def;
the other star-imported name still reaches the imported module's."""
from .defaults import *  # noqa: F403


def fmt_percent(x):  # replaces the star-imported one
    return f"{x * 100:.1f} %"


def summary(count, share):
    return f"{fmt_number(count)} rows, {fmt_percent(share)}"  # noqa: F405


def main():
    print(summary(1234567, 0.256))


if __name__ == "__main__":
    main()
