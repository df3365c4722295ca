import contextlib

OPEN = []


def acquire(name):
    OPEN.append(name)
    return name


def release(name):
    OPEN.remove(name)


@contextlib.contextmanager
def connection(name):
    handle = acquire(name)
    try:
        yield handle
    finally:
        release(handle)
