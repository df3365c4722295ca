"""A class-based context manager: `with` runs __enter__ and __exit__ (implicit); the calls in
them are ordinary edges."""
from properties_dunders__context_class.transaction import Transaction


def main():
    log = []
    with Transaction(log):
        log.append("work")
    with Transaction(log) as tx:
        tx.log.append("fail")
        raise RuntimeError("boom")
    print(log)


if __name__ == "__main__":
    main()
