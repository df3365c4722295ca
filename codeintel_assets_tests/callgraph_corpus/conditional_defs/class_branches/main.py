"""Calls of conditionally defined methods and of a version-chosen function."""
from conditional_defs__class_branches.logging_ import Logger, width


def main():
    logger = Logger()
    print(logger.log("ready"))
    print(width("four"))


if __name__ == "__main__":
    main()
