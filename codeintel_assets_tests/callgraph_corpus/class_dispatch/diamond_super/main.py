"""A diamond: Both(Left, Right) over Base. super() in Left.body goes to Right.body on a Both
and to Base.body on a Left; self.tag() in Base.render reaches Base.tag and Right.tag."""
from class_dispatch__diamond_super.nodes import Both, Left


def show(node: Left):
    return node.render()


def main():
    print(show(Both()))
    print(show(Left()))


if __name__ == "__main__":
    main()
