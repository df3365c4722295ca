"""Static methods called through the class, through self and through an instance."""
from class_static_methods__static_utils.geometry import Angle


def main():
    angle = Angle(450).rotate(-90)
    print(angle.degrees, round(angle.radians(), 3), Angle.to_radians(180), angle.normalize(725))


if __name__ == "__main__":
    main()
