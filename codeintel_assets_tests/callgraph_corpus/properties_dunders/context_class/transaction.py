class Transaction:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        self.begin()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        return True

    def begin(self):
        self.log.append("begin")

    def commit(self):
        self.log.append("commit")

    def rollback(self):
        self.log.append("rollback")
