"""Dataclasses: __init__ is generated (no def of ours), so `Money(...)` is an edge to the class;
__post_init__ runs from the generated __init__ (implicit)."""
from constructors__dataclass_init.models import Money, Order


def main():
    order = Order("A-1", [Money(5), Money(7)], tags=(" Rush ", "GIFT"))
    print(order.total(), order.tags)


if __name__ == "__main__":
    main()
