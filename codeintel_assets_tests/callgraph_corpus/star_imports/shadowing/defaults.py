def fmt_number(n):
    return f"{n:,}"


def fmt_percent(x):
    return f"{x:.0%}"
