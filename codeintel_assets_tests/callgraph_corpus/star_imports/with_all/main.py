"""`from .helpers import *` honouring __all__."""
from .helpers import *  # noqa: F403


def main():
    data = [3, 1, 4, 1, 5, 9]
    print(mean(data), median(data))  # noqa: F405


if __name__ == "__main__":
    main()
