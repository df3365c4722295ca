"""Functions passed as arguments to in-repo higher-order functions that call their parameter."""
from functions_passed__apply_transform.transforms import apply, apply_all, strip, title


def main():
    names = ["  ada ", "grace hopper  "]
    print(apply(strip, names))
    print(apply_all([strip, title], "  linus torvalds "))


if __name__ == "__main__":
    main()
