"""An in-memory key-value backend."""

_DATA = {}


def save(key, value):
    _DATA[key] = value
    return key


def load(key, default=None):
    return _DATA.get(key, default)


def keys():
    return sorted(_DATA)
