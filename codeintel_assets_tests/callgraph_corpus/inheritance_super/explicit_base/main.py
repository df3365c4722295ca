"""Explicit `Base.method(self, ...)` calls, the pre-super() idiom still common in old code."""
from inheritance_super__explicit_base.handlers import Handler, LoudHandler


def main():
    for h in (Handler("> "), LoudHandler("# ", times=3)):
        print(h.handle("hi"))


if __name__ == "__main__":
    main()
