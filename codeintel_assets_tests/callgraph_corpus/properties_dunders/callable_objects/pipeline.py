class Scale:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, value):
        return value * self.factor


class Offset:
    def __init__(self, delta):
        self.delta = delta

    def __call__(self, value):
        return value + self.delta


class Chain:
    def __init__(self, *steps):
        self.steps = steps

    def __call__(self, value):
        for step in self.steps:
            value = step(value)
        return value
