import codecs as _stdlib_codecs

__all__ = ["rot13"]


def rot13(text):
    return _stdlib_codecs.encode(text, "rot13")
