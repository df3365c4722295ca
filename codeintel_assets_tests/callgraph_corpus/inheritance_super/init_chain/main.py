"""A three-level __init__ chain through super() (zero-argument and explicit two-argument) and
an overriding render() extending the base's through super()."""
from inheritance_super__init_chain.widgets import Container, Widget, Window


def main():
    win = Window("Demo", Container("row", Widget("a"), Widget("b")), Widget("c"))
    print(win.title, win.render())


if __name__ == "__main__":
    main()
