from direct_calls__self_methods.cart import Cart


def main():
    cart = Cart(0.2)
    cart.add("pen", 2.5, 4).add("book", 12.0)
    print(cart.total())


if __name__ == "__main__":
    main()
