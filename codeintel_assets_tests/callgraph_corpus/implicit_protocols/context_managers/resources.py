class Timer:
    def __enter__(self):
        self.started = True
        return self

    def __exit__(self, exc_type, exc, tb):
        self.started = False
        return False


class Transaction:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        self.log.append("begin")
        return self.log

    def __exit__(self, *exc):
        self.log.append("commit")


def make_timer():
    return Timer()
