from dataclasses import dataclass, field


def _normalize(tag):
    return tag.strip().lower()


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str = "EUR"

    def plus(self, other):
        return Money(self.amount + other.amount, self.currency)


@dataclass
class Order:
    number: str
    lines: list = field(default_factory=list)
    tags: tuple = ()

    def __post_init__(self):
        self.tags = tuple(_normalize(t) for t in self.tags)

    def total(self):
        result = Money(0)
        for price in self.lines:
            result = result.plus(price)
        return result
