"""Functions as parameter defaults: the default and what callers pass are both callees."""
from functions_assigned__default_callbacks.scoring import Scorer, by_last, rank


def main():
    words = ["pear", "fig"]
    plain = Scorer()
    last = Scorer(key=by_last)
    print([plain.score(w) for w in words])
    print([last.score(w) for w in words])
    print(rank(words))
    print(rank(words, by_last))


if __name__ == "__main__":
    main()
