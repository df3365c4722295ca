def in_range(low, high):
    def check(value):
        return low <= value <= high
    return check


def all_of(*checks):
    def check(value):
        return all(c(value) for c in checks)
    return check


def not_zero(value):
    return value != 0
