"""`self.invoke(ctx)` in the base runs each subclass's override (Echo inherits the base's);
`child.invoke` on the children of a group reaches every override too."""
from class_dispatch__base_calls_child.commands import Echo, Group, Leaf


def main():
    group = Group([Leaf(), Echo()])
    print(group.main("all"))
    print(Leaf().main("one"))


if __name__ == "__main__":
    main()
