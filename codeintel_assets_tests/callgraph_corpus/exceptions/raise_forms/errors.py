class AppError(Exception):
    def __init__(self, message="app failed"):
        super().__init__(message)
        self.message = message


class NotFound(AppError):
    pass


class Bare(Exception):
    pass
