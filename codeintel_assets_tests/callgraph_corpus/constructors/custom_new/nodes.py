class Base:
    def __new__(cls, *args, **kwargs):
        assert cls is not Base, "Base is abstract"
        return super().__new__(cls)


class Leaf(Base):
    def __init__(self, value):
        self.value = value


class Node(Base):
    def __init__(self, children):
        self.children = list(children)

    def count(self):
        return len(self.children)


class Plain:
    def __init__(self, name):
        self.name = name


class Tagged(Plain):
    def __new__(cls, name):
        return super().__new__(cls)
