class StoreError(Exception):
    """Base of the store's errors."""


class NotFound(StoreError, KeyError):
    pass


class Marker:
    """A sentinel class: no __init__ anywhere in-repo."""

    def __repr__(self):
        return "<missing>"
