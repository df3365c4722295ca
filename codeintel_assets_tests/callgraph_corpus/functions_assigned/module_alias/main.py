"""Module-level aliases of functions, called by the imported alias and as module attributes."""
from functions_assigned__module_alias import compat
from functions_assigned__module_alias.compat import scan


def main():
    data = [0, 1, None, 2]
    print(scan(data))
    print(compat.legacy_scan(data))
    print(compat.scan(data))


if __name__ == "__main__":
    main()
