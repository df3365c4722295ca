"""Recursive and mutually recursive evaluation of a small expression tree."""
