"""Functions imported under another name; the same function under two names."""
from imports_aliases__from_alias.formatting import render as render_table
from imports_aliases__from_alias.formatting import render_csv as to_csv
from imports_aliases__from_alias.formatting import render_row, render_row as row_line


def report(rows, fmt):
    if fmt == "csv":
        return to_csv(rows)
    return render_table(rows)


def main():
    rows = [("a", 1), ("b", 2)]
    print(report(rows, "table"))
    print(report(rows, "csv"))
    print(render_row(rows[0]) == row_line(rows[0]))


if __name__ == "__main__":
    main()
