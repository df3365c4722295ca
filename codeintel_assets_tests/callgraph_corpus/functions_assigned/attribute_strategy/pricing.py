def flat(amount):
    return amount


def discounted(amount):
    return round(amount * 0.9, 2)


class Checkout:
    def __init__(self, strategy=flat):
        self.strategy = strategy
        self.lines = []

    def add(self, amount):
        self.lines.append(self.strategy(amount))

    def total(self):
        return sum(self.lines)
