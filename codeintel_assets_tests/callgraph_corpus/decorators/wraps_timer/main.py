"""A functools.wraps decorator: calling the decorated name runs the wrapper, which calls the
original through its closure variable."""
from decorators__wraps_timer.timing import TIMINGS, timed


@timed
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@timed
def report(values):
    return ", ".join(str(v) for v in values)


def main():
    print(report([fib(5), fib(6)]))
    print(len(TIMINGS))


if __name__ == "__main__":
    main()
