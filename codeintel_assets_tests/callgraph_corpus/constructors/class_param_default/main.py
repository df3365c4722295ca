"""A class arriving through a parameter whose default is a class: `cls(name)` constructs the
default when the caller leaves it out, and what the caller passes otherwise."""


class Command:
    def __init__(self, name):
        self.name = name

    def run(self):
        return f"run {self.name}"


class Group(Command):
    def run(self):
        return f"group {self.name}"


def build(name, cls=Command):
    return cls(name)


def main():
    print(build("a").run(), build("b", cls=Group).run())


if __name__ == "__main__":
    main()
