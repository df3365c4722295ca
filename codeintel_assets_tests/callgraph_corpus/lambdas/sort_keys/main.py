"""Lambdas as sort keys and filters: the calls inside a lambda belong to the enclosing def; the
lambda itself is not a definition of ours, so sorted() calling it is no in-repo edge."""
from lambdas__sort_keys.ranking import tiebreak, weight

REPOS = [
    {"name": "Beta", "stars": 5, "forks": 1},
    {"name": "alpha", "stars": 5, "forks": 1},
    {"name": "gamma", "stars": 1, "forks": 0},
]


def popular(repos, minimum):
    keep = filter(lambda r: weight(r) >= minimum, repos)
    return sorted(keep, key=lambda r: (-weight(r), tiebreak(r)))


def main():
    print([r["name"] for r in popular(REPOS, 3)])


if __name__ == "__main__":
    main()
