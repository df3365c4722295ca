"""A definition chosen by an environment flag: both are true targets of `box(...)` (the flag
may be set in another run), one of them is not taken in the traced run."""
from conditional_defs__feature_flag.render import box


def main():
    print(box("report"))


if __name__ == "__main__":
    main()
