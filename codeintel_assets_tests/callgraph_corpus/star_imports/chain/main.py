"""Star imports chained through two modules: names defined in base_ops reach main through ops."""
from .ops import *  # noqa: F403


def main():
    print(lerp(0, 10, 0.25), smoothstep(0.5), clamp(12, 0, 10))  # noqa: F405


if __name__ == "__main__":
    main()
