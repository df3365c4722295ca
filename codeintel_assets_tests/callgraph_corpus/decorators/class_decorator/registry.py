MODELS = {}


def model(cls):
    MODELS[cls.__name__.lower()] = cls
    cls.table = cls.__name__.lower() + "s"
    return cls


def with_repr(*fields):
    def decorate(cls):
        def __repr__(self):
            return f"{cls.__name__}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")"
        cls.__repr__ = __repr__
        return cls
    return decorate
