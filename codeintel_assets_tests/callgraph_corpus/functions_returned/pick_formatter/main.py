"""A function returning one of several functions: called at once (`f(x)(y)`) and later."""
from functions_returned__pick_formatter.formats import formatter_for


def main():
    data = {"a": 1}
    print(formatter_for("json")(data))
    fmt = formatter_for("text")
    print(fmt(data))


if __name__ == "__main__":
    main()
