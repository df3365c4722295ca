"""A local name bound to one of two functions by a conditional expression, then called."""
from functions_assigned__branch_alias.loaders import load_csv, load_json


def load(text, fmt):
    loader = load_json if fmt == "json" else load_csv
    rows = loader(text)
    return len(rows)


def main():
    print(load('[{"a": 1}, {"a": 2}]', "json"))
    print(load("a,b\n1,2\n", "csv"))


if __name__ == "__main__":
    main()
