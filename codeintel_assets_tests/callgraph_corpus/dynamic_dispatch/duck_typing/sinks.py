class MemorySink:
    def __init__(self):
        self.lines = []

    def write(self, line):
        self.lines.append(line)


class CountingSink:
    def __init__(self):
        self.count = 0

    def write(self, line):
        self.count += len(line)


class NullSink:
    def write(self, line):
        pass
