import math


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def distance(self, other):
        return math.hypot(self.x - other.x, self.y - other.y)


class Polygon:
    def __init__(self, *points):
        self.points = list(points)

    def perimeter(self):
        pts = self.points
        return sum(pts[i].distance(pts[(i + 1) % len(pts)]) for i in range(len(pts)))


def square(size):
    return Polygon(Point(0, 0), Point(size, 0), Point(size, size), Point(0, size))
