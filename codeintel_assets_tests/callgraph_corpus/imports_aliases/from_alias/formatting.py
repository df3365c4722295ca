"""Output formatters."""


def render(rows):
    return "\n".join(render_row(r) for r in rows)


def render_row(row):
    return " | ".join(str(cell) for cell in row)


def render_csv(rows):
    return "\n".join(",".join(map(str, r)) for r in rows)
