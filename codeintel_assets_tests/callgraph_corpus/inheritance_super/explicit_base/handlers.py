class Handler:
    def __init__(self, prefix):
        self.prefix = prefix

    def handle(self, msg):
        return f"{self.prefix}{msg}"


class LoudHandler(Handler):
    def __init__(self, prefix, times=2):
        Handler.__init__(self, prefix)
        self.times = times

    def handle(self, msg):
        base = Handler.handle(self, msg)
        return "!".join([base.upper()] * self.times)
