"""A generator-based context manager (contextlib.contextmanager): the body runs from contextlib's
__enter__ and __exit__, so its calls are indirect."""
from generators__context_manager.resources import OPEN, connection


def query(sql):
    with connection("db") as conn:
        return f"{conn}: {sql} (open: {OPEN})"


def main():
    print(query("select 1"))
    print(OPEN)


if __name__ == "__main__":
    main()
