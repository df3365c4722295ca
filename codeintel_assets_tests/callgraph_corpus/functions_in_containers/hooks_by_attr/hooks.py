class Hooks:
    """Named lists of callbacks stored in a dict attribute."""

    def __init__(self):
        self.hooks = {"before": [], "after": []}

    def add(self, when, func):
        self.hooks[when].append(func)

    def fire(self, when, *args):
        return [hook(*args) for hook in self.hooks[when]]
