"""Hexagon is defined, never named: no instance runs its overrides. `sq: Square` reaches
Square's area, not Circle's."""
from class_dispatch__unnamed_override.shapes import Circle, Square


def side_area(sq: Square):
    return sq.area()


def main():
    print(Square(2).report())
    print(Circle(1).report())
    print(side_area(Square(3)))


if __name__ == "__main__":
    main()
