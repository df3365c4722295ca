"""A method returning one of the instance's bound methods, called by the caller."""
from functions_returned__bound_methods.ui import Button


def main():
    button = Button("OK")
    for event in ("hover", "click", "click"):
        callback = button.handler(event)
        print(callback())


if __name__ == "__main__":
    main()
