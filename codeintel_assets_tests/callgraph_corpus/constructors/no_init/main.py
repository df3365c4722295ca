"""Constructing classes without __init__ of their own (exceptions, a sentinel): the edge goes to
the class itself."""
from constructors__no_init.errors import Marker, NotFound, StoreError

MISSING = Marker()


def lookup(store, key, default=MISSING):
    if key not in store:
        if default is MISSING:
            raise NotFound(key)
        return default
    return store[key]


def main():
    store = {"a": 1}
    print(lookup(store, "b", None))
    try:
        lookup(store, "b")
    except StoreError as err:
        print("missing", err)


if __name__ == "__main__":
    main()
