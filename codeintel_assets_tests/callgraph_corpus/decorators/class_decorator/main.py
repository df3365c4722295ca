"""Class decorators (plain and a factory) that register a class and add a method to it."""
from decorators__class_decorator.registry import MODELS, model, with_repr


@model
@with_repr("name", "email")
class User:
    def __init__(self, name, email):
        self.name = name
        self.email = email


def main():
    user = MODELS["user"]("ada", "ada@example.org")
    print(repr(user), User.table)


if __name__ == "__main__":
    main()
