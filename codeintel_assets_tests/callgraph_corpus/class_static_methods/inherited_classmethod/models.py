class Model:
    registry = {}

    def __init__(self, **fields):
        self.fields = fields

    @classmethod
    def create(cls, **fields):
        obj = cls(**fields)
        cls.registry.setdefault(cls.__name__, []).append(obj)
        return obj

    @classmethod
    def count(cls):
        return len(cls.registry.get(cls.__name__, []))


class User(Model):
    def __init__(self, **fields):
        fields.setdefault("active", True)
        super().__init__(**fields)


class Tag(Model):
    pass
