"""Classes looked up by name in a dict, instantiated and run: the constructor and the method
both depend on the looked-up class."""
from dynamic_dispatch__plugin_classes.plugins import PLUGINS


def apply(names, text):
    for name in names:
        plugin = PLUGINS[name]()
        text = plugin.run(text)
    return text


def main():
    print(apply(["upper", "reverse"], "hello"))


if __name__ == "__main__":
    main()
