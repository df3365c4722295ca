import math


class Vector:
    def __init__(self, *coords):
        self.coords = tuple(coords)

    def __add__(self, other):
        return Vector(*(a + b for a, b in zip(self.coords, other.coords)))

    def __mul__(self, k):
        return Vector(*(a * k for a in self.coords))

    def __eq__(self, other):
        return isinstance(other, Vector) and self.coords == other.coords

    def __abs__(self):
        return math.sqrt(self.dot(self))

    def dot(self, other):
        return sum(a * b for a, b in zip(self.coords, other.coords))

    def __repr__(self):
        return f"Vector{self.coords}"
