class Repository:
    def __init__(self):
        self._rows = {}

    def add(self, key, row):
        self._rows[key] = self.prepare(row)
        return key

    def prepare(self, row):
        return dict(row)

    def get(self, key):
        return self._rows[key]
