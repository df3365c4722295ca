def check_kelvin(value):
    if value < 0:
        raise ValueError("below absolute zero")
    return value


class Temperature:
    def __init__(self, kelvin):
        self.kelvin = kelvin

    @property
    def kelvin(self):
        return self._kelvin

    @kelvin.setter
    def kelvin(self, value):
        self._kelvin = check_kelvin(value)

    @property
    def celsius(self):
        return self.kelvin - 273.15

    def describe(self):
        return f"{self.celsius:.1f} C"
