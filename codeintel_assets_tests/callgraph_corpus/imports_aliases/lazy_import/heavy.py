"""A module imported lazily, inside a function, to keep import time low."""


def compute(values):
    return sum(v * v for v in values)
