class Context:
    def __init__(self, name):
        self.name = name


class Command:
    def main(self, name):
        ctx = Context(name)
        return self.invoke(ctx)

    def invoke(self, ctx):
        return f"command {ctx.name}"


class Group(Command):
    def __init__(self, children):
        self.children = children

    def invoke(self, ctx):
        return [child.invoke(ctx) for child in self.children]


class Leaf(Command):
    def invoke(self, ctx):
        return f"leaf {ctx.name}"


class Echo(Command):
    pass
