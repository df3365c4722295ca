__all__ = ["mean", "median"]


def mean(values):
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else mean(ordered[mid - 1:mid + 1])


def _private():
    return "not exported"
