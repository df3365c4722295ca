"""Relative imports across subpackages: `.models.user`, `.services`, and `..` inside them."""
from .models.user import User
from .services import billing


def main():
    for user in [User("ada", "pro"), User("bob", "free")]:
        print(billing.invoice(user))


if __name__ == "__main__":
    main()
