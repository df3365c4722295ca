"""Property reads with no `x.attr` of their own: getattr and hasattr with a constant name, a
base class's `self.name` where only a subclass has a property `name`, and what a function
returns through typing.cast."""
import typing as t


class ParamType:
    name: str

    def describe(self):
        if hasattr(self, "name"):
            return self.name
        return "?"


class Choice(ParamType):
    name = "choice"


class Pair(ParamType):
    @property
    def name(self):
        return "pair"


class Hidden(ParamType):
    @property
    def name(self):
        return "hidden"


class Context:
    def __init__(self, parent: t.Optional["Context"] = None):
        self._meta = getattr(parent, "meta", {})

    @property
    def meta(self):
        return self._meta


STACK = []


def current() -> t.Optional[Context]:
    return t.cast("Context", STACK[-1])
