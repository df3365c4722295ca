"""Definitions chosen by the interpreter version, as compatibility modules do."""
import sys

if sys.version_info >= (3, 9):
    def remove_prefix(text, prefix):
        return text.removeprefix(prefix)
else:
    def remove_prefix(text, prefix):
        return text[len(prefix):] if text.startswith(prefix) else text

if sys.version_info < (3, 8):
    def first_line(text):
        return text.split("\n")[0]
else:
    def first_line(text):
        return text.partition("\n")[0]
