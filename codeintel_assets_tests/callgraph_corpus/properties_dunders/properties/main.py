"""Properties: reading and assigning them runs the getter and setter (`kelvin#2`): edges at
the access's line (implicit); calls inside them are ordinary edges. `@property` and
`@kelvin.setter` are decorator calls of external code."""
from properties_dunders__properties.temperature import Temperature


def main():
    t = Temperature(300)
    t.kelvin = 310
    print(t.describe(), t.kelvin)


if __name__ == "__main__":
    main()
