"""Two decorators on one def: calling it runs the outer wrapper, which calls the inner
wrapper, which calls the def."""
import functools

LOG = []


def record(name):
    LOG.append(name)


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        record(fn.__name__)
        return fn(*args, **kwargs)
    return wrapper


def timed(fn):
    def inner(*args):
        return fn(*args)
    return inner


def helper(x):
    return x + 1


@logged
@timed
def work(x):
    return helper(x)


def main():
    print(work(1), LOG)


if __name__ == "__main__":
    main()
