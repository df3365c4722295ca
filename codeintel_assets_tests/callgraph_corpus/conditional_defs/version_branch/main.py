"""Calls of names with two conditional definitions (`f` and `f#2`): only the branch the
interpreter takes is ever called (3.11+ here; the corpus runs on >= 3.11)."""
from conditional_defs__version_branch.compat import first_line, remove_prefix


def main():
    print(remove_prefix("v1.2.3", "v"), first_line("title\nbody"))


if __name__ == "__main__":
    main()
