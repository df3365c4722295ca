"""`Leaf(...)` runs the `__new__` Leaf inherits from Base, then Leaf.__init__; a class with no
in-repo `__new__` along its MRO (Plain) runs only its `__init__`."""
from constructors__custom_new.nodes import Leaf, Node, Plain


def main():
    leaf = Leaf(1)
    node = Node([leaf, Leaf(2)])
    plain = Plain("x")
    print(node.count(), plain.name, leaf.value)


if __name__ == "__main__":
    main()
