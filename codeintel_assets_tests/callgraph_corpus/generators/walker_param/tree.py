class Folder:
    def __init__(self, name, *entries):
        self.name = name
        self.entries = list(entries)

    def walk(self, prefix=""):
        path = prefix + self.name + "/"
        yield path
        for entry in self.entries:
            yield from entry.walk(path)


class File:
    def __init__(self, name):
        self.name = name

    def walk(self, prefix=""):
        yield prefix + self.name


def count(node):
    return sum(1 for _ in node.walk())
