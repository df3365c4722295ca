class LoggingMixin:
    def handle(self, item):
        self.log(f"got {item}")
        return self.process(item)

    def log(self, text):
        return text


class Upper:
    def process(self, item):
        return item.upper()


class Double:
    def process(self, item):
        return item * 2


class LoudUpper(LoggingMixin, Upper):
    def log(self, text):
        return text.upper()


class LoggedDouble(LoggingMixin, Double):
    pass
