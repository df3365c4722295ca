def strip(value):
    return value.strip()


def title(value):
    return value.title()


def apply(func, values):
    return [func(v) for v in values]


def apply_all(funcs, value):
    for func in funcs:
        value = func(value)
    return value
