"""Names star-imported into a package's __init__, used as `pkg.name` and via a star import of
the package."""
from . import codecs
from .codecs import *  # noqa: F403


def main():
    secret = codecs.rot13("hello")
    print(secret, unb64(b64(secret)))  # noqa: F405


if __name__ == "__main__":
    main()
