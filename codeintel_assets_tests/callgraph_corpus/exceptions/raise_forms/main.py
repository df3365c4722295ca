"""Exceptions raised as a call, as a bare class, through a module and a class attribute: each
raise runs the class's __init__ (inherited along the MRO)."""
from exceptions__raise_forms import errors
from exceptions__raise_forms.errors import AppError


class Store:
    error = errors.NotFound

    def get(self, key="k"):
        raise self.error(key)


def fail_called():
    raise AppError("called")


def fail_bare():
    raise AppError


def fail_module():
    raise errors.NotFound("missing")


def fail_plain():
    raise errors.Bare


def attempt(fn):
    try:
        fn()
    except Exception as exc:
        return type(exc).__name__
    return None


def main():
    print(attempt(fail_called), attempt(fail_bare), attempt(fail_module))
    print(attempt(fail_plain), attempt(Store().get))


if __name__ == "__main__":
    main()
