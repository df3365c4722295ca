"""for over user iterators (a class that is its own iterator, one that hands out a list's),
next() on one, and a comprehension over one: __iter__ and __next__ run at the loop."""
from implicit_protocols__iterator_class.shapes import Bag, Countdown


def total(bag: Bag):
    out = 0
    for x in bag:
        out += x
    return out


def main():
    for n in Countdown(2):
        print(n)
    it = Countdown(3)
    print(next(it))
    print(total(Bag([1, 2])))
    print([x * 2 for x in Countdown(2)])


if __name__ == "__main__":
    main()
