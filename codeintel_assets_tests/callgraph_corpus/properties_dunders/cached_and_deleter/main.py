"""A cached_property, a property with setter and deleter, and a subclass overriding the getter
(a read on an annotated Settings reaches both getters: LocalSettings is named)."""
from properties_dunders__cached_and_deleter.config import LocalSettings, Settings


def show(s: Settings):
    return s.name


def main():
    s = Settings({"debug": "1", "name": "x"})
    s.name = "  prod "
    print(s.debug, s.debug, show(s), show(LocalSettings({"name": "y"})))
    del s.name


if __name__ == "__main__":
    main()
