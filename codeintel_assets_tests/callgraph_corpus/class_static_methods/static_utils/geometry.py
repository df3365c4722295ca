import math


class Angle:
    def __init__(self, degrees):
        self.degrees = Angle.normalize(degrees)

    @staticmethod
    def normalize(degrees):
        return degrees % 360

    @staticmethod
    def to_radians(degrees):
        return math.radians(degrees)

    def radians(self):
        return self.to_radians(self.degrees)

    def rotate(self, by):
        return type(self)(self.degrees + self.normalize(by))
