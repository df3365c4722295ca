"""A mixin calls self.process, which it does not define: the classes that mix it in supply
it through their MRO (and one overrides the mixin's own log)."""
from class_dispatch__mixin_hooks.handlers import LoggedDouble, LoudUpper


def run(handlers, item):
    return [h.handle(item) for h in handlers]


def main():
    print(run([LoudUpper(), LoggedDouble()], "ab"))


if __name__ == "__main__":
    main()
