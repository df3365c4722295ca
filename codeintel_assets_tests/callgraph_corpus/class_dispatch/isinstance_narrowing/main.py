"""`isinstance` narrows an unknown value to a class: the narrowed name's method calls resolve
to that class's methods (and its subclasses'), nowhere else."""
from typing import Optional

from class_dispatch__isinstance_narrowing.tree import Branch, Leaf


def describe(node):
    if isinstance(node, Leaf):
        return "heavy" if node.heavy() else "light"
    elif isinstance(node, Branch):
        return f"branch of {node.size()}"
    return "?"


def first_of(node: Optional[Branch]):
    return node.first() if node is not None else None


def main():
    tree = Branch(Leaf(1), Leaf(5))
    print([describe(n) for n in (tree, *tree.kids)])
    print(first_of(tree))


if __name__ == "__main__":
    main()
