def positive(method):
    def checked(self, value):
        if value <= 0:
            raise ValueError(f"{method.__name__}: {value} is not positive")
        return method(self, value)
    return checked


def logged(prefix):
    def decorate(method):
        def inner(self, *args):
            self.log.append(prefix + method.__name__)
            return method(self, *args)
        return inner
    return decorate
