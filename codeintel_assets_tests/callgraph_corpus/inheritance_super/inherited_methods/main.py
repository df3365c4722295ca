"""Methods inherited from a base in another module, called on the subclass and through self;
the base's self.prepare() runs the subclass override."""
from inheritance_super__inherited_methods.users import UserRepository


def main():
    repo = UserRepository()
    repo.add("u1", {"email": "Ada@Example.org"})
    print(repo.get("u1"), repo.by_email("ADA@example.org"))


if __name__ == "__main__":
    main()
