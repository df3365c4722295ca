class Bag:
    def __init__(self, *items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __contains__(self, item):
        return item in self.items

    def __getitem__(self, index):
        return self.items[index]

    def __format__(self, spec):
        return f"Bag({len(self)})"


class Flag:
    def __init__(self, on):
        self.on = on

    def __bool__(self):
        return self.on
