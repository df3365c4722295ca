class Batch:
    """A container whose __iter__ is a generator and whose chunks() is an explicit one."""

    def __init__(self, items):
        self.items = list(items)

    def __iter__(self):
        for item in self.items:
            yield self.transform(item)

    def __len__(self):
        return len(self.items)

    def transform(self, item):
        return item * 10

    def chunks(self, size):
        for start in range(0, len(self), size):
            yield self.items[start:start + size]
