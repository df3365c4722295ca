"""A class parameter whose None default the body fills in (`if cls is None: cls = Command`),
read by a returned decorator: constructing it reaches the fill-in's __init__ and that of the
class a caller passes on (group passes Group). An unconditional assignment is no default."""
import typing as t


class Command:
    def __init__(self, name):
        self.name = name


class Group(Command):
    def __init__(self, name):
        super().__init__(name)
        self.commands = []


class Option:
    def __init__(self, name):
        self.name = name


def command(name=None, cls: t.Optional[t.Type[Command]] = None):
    if cls is None:
        cls = t.cast(t.Type[Command], Command)

    def decorator(f):
        return cls(name or f.__name__)

    return decorator


def group(name=None, cls=None):
    if cls is None:
        cls = Group
    return command(name, cls)


def make(name, cls=None):
    cls = Option
    return cls(name)


def main():
    print(command()(main).name, group("g")(main).name, make("m", cls=Group).name)


if __name__ == "__main__":
    main()
