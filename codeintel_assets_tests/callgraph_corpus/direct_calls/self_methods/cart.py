"""A shopping cart whose methods call each other through self."""


class Cart:
    def __init__(self, tax_rate):
        self.tax_rate = tax_rate
        self.items = []

    def add(self, name, price, qty=1):
        self._validate(price, qty)
        self.items.append((name, price, qty))
        return self

    def _validate(self, price, qty):
        if price < 0 or qty <= 0:
            raise ValueError("bad line")

    def subtotal(self):
        return sum(price * qty for _, price, qty in self.items)

    def tax(self):
        return round(self.subtotal() * self.tax_rate, 2)

    def total(self):
        return self.subtotal() + self.tax()
