class Node:
    def __init__(self, name, *children):
        self.name = name
        self.children = children

    def walk(self, depth=0):
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


def leaves(node):
    return [n.name for _, n in node.walk() if not n.children]
