"""Instance attributes typed by declarations: `parent: Optional[Node]` in the class body,
`self.nodes: list[Node]`, `self.mode = mode` with `mode: Mode`, a def's `-> Node` and
`-> Iterator[Node]`, read here in another module."""
from properties_dunders__attribute_types.tree import Mode, Tree


def report(tree: Tree):
    leaf = tree.add("leaf")
    if "debug" in tree.mode:
        print(leaf.depth, tree.root.depth)
    for node in tree.walk():
        print(str(node))


def main():
    report(Tree(Mode(["debug"])))


if __name__ == "__main__":
    main()
