"""Public API re-exported from private modules."""
from imports_aliases__reexport.parsing._lexer import tokenize
from imports_aliases__reexport.parsing._parser import parse as parse_tokens

__all__ = ["tokenize", "parse_tokens", "parse"]


def parse(text):
    return parse_tokens(tokenize(text))
