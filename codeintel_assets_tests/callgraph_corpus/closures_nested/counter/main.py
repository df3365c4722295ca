"""A closure factory: the returned inner function keeps state with nonlocal and is called later
through the name it was assigned to."""


def clamp(value, low, high):
    return max(low, min(high, value))


def make_counter(start=0, step=1, limit=10):
    count = start

    def increment():
        nonlocal count
        count = clamp(count + step, start, limit)
        return count

    return increment


def main():
    tick = make_counter(step=4)
    ticks = [tick(), tick(), tick()]
    other = make_counter(limit=2)
    print(ticks, other())


if __name__ == "__main__":
    main()
