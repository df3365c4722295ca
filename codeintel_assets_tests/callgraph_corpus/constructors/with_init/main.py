"""Classes with __init__: constructed directly, in a helper, and from a list of pairs."""
from constructors__with_init import shapes
from constructors__with_init.shapes import Point, Polygon


def main():
    tri = Polygon(*[Point(x, y) for x, y in [(0, 0), (3, 0), (3, 4)]])
    print(tri.perimeter())
    print(shapes.square(2).perimeter())
    print(shapes.Point(1, 1).distance(Point(4, 5)))


if __name__ == "__main__":
    main()
