class Node:
    def size(self):
        return 1


class Leaf(Node):
    def __init__(self, weight):
        self.weight = weight

    def heavy(self):
        return self.weight > 2


class Branch(Node):
    def __init__(self, *kids):
        self.kids = list(kids)

    def size(self):
        return 1 + len(self.kids)

    def first(self):
        return self.kids[0]
