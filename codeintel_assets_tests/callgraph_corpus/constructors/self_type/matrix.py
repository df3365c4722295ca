class Matrix:
    def __init__(self, rows):
        self.rows = [list(r) for r in rows]

    def copy(self):
        return type(self)(self.rows)

    def transpose(self):
        return self.__class__(zip(*self.rows))

    def scaled(self, k):
        new = self.copy()
        new.rows = [[k * v for v in row] for row in new.rows]
        return new


class SparseMatrix(Matrix):
    def __init__(self, rows):
        super().__init__(rows)
        self.nonzero = sum(1 for row in self.rows for v in row if v)
