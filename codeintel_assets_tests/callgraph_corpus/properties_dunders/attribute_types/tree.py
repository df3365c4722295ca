from typing import Iterator, Optional


class Mode:
    def __init__(self, flags):
        self.flags = set(flags)

    def __contains__(self, flag):
        return flag in self.flags


class Node:
    parent: Optional["Node"] = None

    def __init__(self, name):
        self.name = name

    @property
    def depth(self):
        return 0 if self.parent is None else self.parent.depth + 1

    def __str__(self):
        return self.name


class Leaf(Node):
    @property
    def depth(self):
        return -1


class Tree:
    def __init__(self, mode: Mode):
        self.mode = mode
        self.root = Node("root")
        self.nodes: list[Node] = [self.root]

    def add(self, name) -> Node:
        node = Node(name)
        node.parent = self.root
        self.nodes.append(node)
        return node

    def walk(self) -> Iterator[Node]:
        yield from self.nodes
