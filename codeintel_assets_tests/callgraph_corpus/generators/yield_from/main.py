"""A recursive generator method delegating with `yield from`."""
from generators__yield_from.tree import Node, leaves


def outline(root):
    for depth, node in root.walk():
        yield "  " * depth + node.name


def main():
    root = Node("root", Node("a", Node("a1"), Node("a2")), Node("b"))
    print("\n".join(outline(root)))
    print(leaves(root))


if __name__ == "__main__":
    main()
