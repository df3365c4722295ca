"""An abstract method overridden by two subclasses: `shape.area()` on a `Shape` runs either
override, never the abstract one."""
from dynamic_dispatch__abstract_shapes.shapes import Circle, Rect, Shape


def total_area(shapes: list[Shape]) -> float:
    return sum(shape.area() for shape in shapes)


def main():
    shapes = [Circle(1), Rect(2, 3)]
    print(round(total_area(shapes), 2))
    print([s.describe() for s in shapes])


if __name__ == "__main__":
    main()
