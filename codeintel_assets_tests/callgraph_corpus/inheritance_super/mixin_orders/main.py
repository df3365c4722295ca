"""Cooperative super() calls through mixins composed in two orders."""
from inheritance_super__mixin_orders.storage import AuditedCached, CachedAudited


def main():
    first, second = [], []
    CachedAudited().put(first)
    AuditedCached().put(second)
    print(first, second)


if __name__ == "__main__":
    main()
