"""A name defined twice (the second def replaces the first), a call between the two definitions
reaching the first, and a method redefined in a class body (`#2`)."""


def greet(name):
    return f"hello {name}"


EARLY = greet("early")


def greet(name):  # noqa: F811 (the redefinition is the point)
    return f"hi {name}!"


class Parser:
    def parse(self, text):
        return text.split(",")

    def parse(self, text):  # noqa: F811
        return [part.strip() for part in text.split(",")]


def main():
    print(EARLY, greet("late"), Parser().parse("a, b"))


if __name__ == "__main__":
    main()
