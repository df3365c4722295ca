"""A classmethod inherited by subclasses: `cls(...)` in it constructs whichever class it was
called on, so one site reaches the subclass's __init__ and the base's."""
from class_static_methods__inherited_classmethod.models import Tag, User


def main():
    User.create(name="ada")
    Tag.create(label="python")
    print(User.count(), Tag.count(), User.registry["User"][0].fields)


if __name__ == "__main__":
    main()
