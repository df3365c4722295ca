"""Names used through the package that re-exports them, as `pkg.name` and `from pkg import`."""
import imports_aliases__reexport.parsing as parsing
from imports_aliases__reexport.parsing import parse, tokenize


def main():
    tokens = tokenize("(add 1 (mul 2 3))")
    print(parsing.parse_tokens(tokens))
    print(parse("(a (b c))"))
    print(parsing.tokenize("(x)"))


if __name__ == "__main__":
    main()
