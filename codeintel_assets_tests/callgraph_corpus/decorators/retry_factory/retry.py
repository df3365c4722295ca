"""A decorator factory with arguments: retry(times=3)(func)."""
import functools


class TransientError(Exception):
    pass


def retry(times=3, on=(TransientError,)):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(1, times + 1):
                try:
                    return func(*args, **kwargs)
                except on:
                    if attempt == times:
                        raise
        return wrapper
    return decorate
