class Shape:
    def area(self):
        raise NotImplementedError

    def report(self):
        return f"{self.name()} {self.area()}"

    def name(self):
        return "shape"


class Square(Shape):
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side * self.side


class Circle(Shape):
    def __init__(self, r):
        self.r = r

    def area(self):
        return 3 * self.r * self.r

    def name(self):
        return "circle"


class Hexagon(Shape):
    def area(self):
        return 6

    def name(self):
        return "hexagon"
