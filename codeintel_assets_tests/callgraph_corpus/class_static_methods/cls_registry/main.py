"""Classmethods calling each other through cls, called at module level of the defining module
and from an instance."""
from class_static_methods__cls_registry.units import Unit


def main():
    meter = Unit.lookup("m")
    print(meter.convert(3, "km", "m"), Unit.register("cm", 0.01).factor)


if __name__ == "__main__":
    main()
