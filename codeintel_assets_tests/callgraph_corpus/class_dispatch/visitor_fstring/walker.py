class Walker:
    def walk(self, node):
        handler = getattr(self, f"on_{node[0]}", None)
        if handler is None:
            return self.skip(node)
        return handler(node)

    def skip(self, node):
        return 0

    def on_leaf(self, node):
        return 1


class Counter(Walker):
    def on_pair(self, node):
        return self.walk(node[1]) + self.walk(node[2])


class Tracer(Walker):
    def on_leaf(self, node):
        return 10

    def helper(self):
        return "not a handler"
