"""Truth tests fall back to __len__ when a class has no __bool__; `in` runs __contains__;
a subscript __getitem__; an f-string __format__."""
from implicit_protocols__truth_and_format.bag import Bag, Flag


def main():
    bag, flag = Bag(1, 2), Flag(False)
    if bag and not flag:
        print(2 in bag, bag[0], f"{bag}")


if __name__ == "__main__":
    main()
