"""getattr(self, f"on_{kind}") in a base reaches the handlers of the classes the program
names (Counter's own on_pair, the base's on_leaf), not Tracer's, which is never named."""
from class_dispatch__visitor_fstring.walker import Counter


def main():
    tree = ("pair", ("leaf",), ("pair", ("leaf",), ("other",)))
    print(Counter().walk(tree))


if __name__ == "__main__":
    main()
