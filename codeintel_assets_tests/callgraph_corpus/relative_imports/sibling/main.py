"""Sibling modules through `from . import mod` and `from .mod import name`."""
from . import util
from .util import slugify


def make_urls(titles):
    return ["/posts/" + slugify(t) for t in titles]


def main():
    print(make_urls(["Héllo World", "Second  post"]))
    print(util.ascii_fold("Ünïcode"))


if __name__ == "__main__":
    main()
