"""A function stored in an instance attribute (a strategy) and called through it."""
from functions_assigned__attribute_strategy.pricing import Checkout, discounted


def main():
    regular, sale = Checkout(), Checkout(strategy=discounted)
    for amount in (10, 20):
        regular.add(amount)
        sale.add(amount)
    print(regular.total(), sale.total())


if __name__ == "__main__":
    main()
