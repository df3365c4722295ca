"""Constructors called through `type(self)(...)` and `self.__class__(...)`: the class is the
receiver's runtime class, so one call site constructs either class."""
from constructors__self_type.matrix import Matrix, SparseMatrix


def main():
    m = Matrix([[1, 2], [3, 4]])
    print(m.transpose().rows, m.scaled(2).rows)
    s = SparseMatrix([[0, 1], [0, 0]])
    print(s.scaled(3).nonzero, s.transpose().nonzero)


if __name__ == "__main__":
    main()
