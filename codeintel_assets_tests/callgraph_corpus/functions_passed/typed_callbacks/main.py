"""Callbacks through parameters annotated `Callable[...]`, which name no class: calling the
parameter reaches what the callers pass, in the function and in a closure it returns."""
from typing import Callable, Optional


def shout(text):
    return text.upper()


def whisper(text):
    return text.lower()


def unused(text):
    return text


def apply(text: str, fn: Callable[[str], str]) -> str:
    return fn(text)


def cached(make: "Optional[Callable[[str], str]]"):
    def get(text):
        return make(text)

    return get


def main():
    print(apply("a", shout), apply("b", fn=whisper), cached(whisper)("c"), unused("d"))


if __name__ == "__main__":
    main()
