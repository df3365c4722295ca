"""Imports inside functions: modules and names bound in the function's scope only."""


def total(values):
    from imports_aliases__lazy_import.heavy import compute
    return compute(values)


def export(rows, fmt):
    if fmt == "csv":
        import imports_aliases__lazy_import.plugins.csvplugin as plugin
    else:
        from imports_aliases__lazy_import.plugins import jsonplugin as plugin
    return plugin.export(rows)


def main():
    print(total([1, 2, 3]))
    print(export([["a", "b"]], "csv"))
    print(export([["a", "b"]], "json"))


if __name__ == "__main__":
    main()
