def export(rows):
    return "\n".join(",".join(r) for r in rows)
