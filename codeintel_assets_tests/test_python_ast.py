"""ast_extract on real files: qualnames, decorators, nesting, async, imports, metrics."""

from __future__ import annotations

import ast
import textwrap

from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.python_ast import extract_ast
from codeintel_assets.storage.catalog import table

SOURCE = textwrap.dedent('''\
    """Module doc."""
    from __future__ import annotations
    import os.path as osp, sys
    from typing import TYPE_CHECKING
    from . import sibling
    from ..pkg import thing as t
    from .mod import *

    if TYPE_CHECKING:
        from collections.abc import Iterator
    else:
        import json


    class A:
        """Class doc."""

        @staticmethod
        @register(1,
                  2)
        async def f(x):
            async with x as y:
                await y.z()
            return [i for i in x if i if not i] or x

        def f(self):
            pass

        class Inner:
            def m(self):
                return 1


    def outer():
        import re

        class Local:
            def method(self):
                def deepest():
                    return osp.join("a", "b")
                return deepest

        return Local


    def outer():
        pass
''')


def extract(tmp_path, source=SOURCE, rel="pkg/sub/mod.py", module="pkg.sub.mod"):
    path = tmp_path / "mod.py"
    path.write_text(source, encoding="utf-8")
    return extract_ast(FileJob("acme/widgets", "c0ffee", rel, str(path), module))


def defs(out):
    return {(n["node_type"], n["qualname"]): n for n in out["core.ast_nodes"] if n["qualname"]}


def test_qualnames_follow_dunder_qualname_with_redefinitions(tmp_path):
    got = {q for (_, q) in defs(extract(tmp_path))}
    assert got == {
        "pkg.sub.mod", "pkg.sub.mod.A", "pkg.sub.mod.A.f", "pkg.sub.mod.A.f#2",
        "pkg.sub.mod.A.Inner", "pkg.sub.mod.A.Inner.m", "pkg.sub.mod.outer",
        "pkg.sub.mod.outer.<locals>.Local", "pkg.sub.mod.outer.<locals>.Local.method",
        "pkg.sub.mod.outer.<locals>.Local.method.<locals>.deepest", "pkg.sub.mod.outer#2",
    }


def test_decorated_async_def_positions(tmp_path):
    f = defs(extract(tmp_path))[("AsyncFunctionDef", "pkg.sub.mod.A.f")]
    assert (f["decorator_start_line"], f["decorator_end_line"], f["lineno"]) == (18, 20, 21)
    assert f["decorators"] == '["staticmethod", "register(1, 2)"]'
    assert (f["name_line"], f["name_col"]) == (21, 14)
    assert f["parent_qualname"] == "pkg.sub.mod.A"
    # The name position agrees with the source text.
    line = SOURCE.splitlines()[20]
    assert line[f["name_col"]:].startswith("f(")


def test_docstrings_and_module_row(tmp_path):
    d = defs(extract(tmp_path))
    module = d[("Module", "pkg.sub.mod")]
    assert module["docstring"] == "Module doc."
    assert (module["lineno"], module["end_lineno"]) == (1, len(SOURCE.splitlines()))
    assert d[("ClassDef", "pkg.sub.mod.A")]["docstring"] == "Class doc."


def test_calls_and_scopes_of_non_definition_nodes(tmp_path):
    nodes = extract(tmp_path)["core.ast_nodes"]
    calls = {(n["name"], n["parent_qualname"]) for n in nodes if n["node_type"] == "Call"}
    assert ("y.z", "pkg.sub.mod.A.f") in calls
    assert ("osp.join", "pkg.sub.mod.outer.<locals>.Local.method.<locals>.deepest") in calls
    # Decorator calls are evaluated in the enclosing (class) scope.
    assert ("register", "pkg.sub.mod.A") in calls
    types = {n["node_type"] for n in nodes}
    assert {"Await", "AsyncWith", "ListComp", "BoolOp", "Return", "If", "ImportFrom"} <= types
    assert "Name" not in types and "Constant" not in types


def test_node_ids_unique_and_match_positions(tmp_path):
    nodes = extract(tmp_path)["core.ast_nodes"]
    ids = [n["node_id"] for n in nodes]
    assert len(ids) == len(set(ids))
    call = next(n for n in nodes if n["node_type"] == "Call" and n["name"] == "y.z")
    assert call["node_id"] == f"pkg/sub/mod.py:Call:{call['lineno']}:{call['col_offset']}:" \
                              f"{call['end_lineno']}:{call['end_col_offset']}"


def test_imports_resolve_relative_and_flag_type_checking(tmp_path):
    rows = {(r["lineno"], r["imported"]): r for r in extract(tmp_path)["core.imports"]}
    assert rows[(3, "os.path")]["asname"] == "osp"
    assert (3, "sys") in rows
    assert rows[(5, "pkg.sub.sibling")]["level"] == 1
    assert rows[(6, "pkg.pkg.thing")]["asname"] == "t"
    star = rows[(7, "pkg.sub.mod")]
    assert star["is_star"] and star["name"] == "*"
    assert rows[(10, "collections.abc.Iterator")]["in_type_checking"] is True
    assert rows[(12, "json")]["in_type_checking"] is False  # the else branch
    assert rows[(35, "re")]["scope"] == "function"
    assert rows[(3, "sys")]["scope"] == "module"


def test_package_relative_imports(tmp_path):
    out = extract(tmp_path, "from . import a\nfrom .b import c\n", rel="pkg/__init__.py",
                  module="pkg")
    assert {r["imported"] for r in out["core.imports"]} == {"pkg.a", "pkg.b.c"}


def test_metrics(tmp_path):
    out = extract(tmp_path)
    m = out["core.ast_metrics"][0]
    tree = ast.parse(SOURCE)
    assert m["node_count"] == sum(1 for _ in ast.walk(tree))
    assert m["function_count"] == 7 and m["class_count"] == 3
    # if TYPE_CHECKING, 2 comprehension ifs, one `or`
    assert m["complexity"] == 4
    assert m["loc"] == len(SOURCE.splitlines())
    assert m["logical_loc"] == sum(isinstance(n, ast.stmt) for n in ast.walk(tree))
    assert m["max_depth"] > 5 and 0 < m["avg_depth"] < m["max_depth"]


def test_rows_match_catalog(tmp_path):
    out = extract(tmp_path)
    for name, rows in out.items():
        assert table(name).from_rows(rows).num_rows == len(rows)


def test_non_ascii_columns_are_utf8_byte_offsets(tmp_path):
    out = extract(tmp_path, "x = 'é'; f(x)\n")
    call = next(n for n in out["core.ast_nodes"] if n["node_type"] == "Call")
    assert call["col_offset"] == len("x = 'é'; ".encode())


def test_annotation_counts_of_defs(tmp_path):
    out = extract(tmp_path, textwrap.dedent('''\
        def f(a: int, b, *args: str, c=1, **kw) -> None: ...
        def g(): ...
        class C:
            def m(self, x: int): ...
            @staticmethod
            def s(x: int) -> int: ...
            @classmethod
            def k(cls, /, y, *, z: int): ...
            async def a(self) -> str: ...
        '''))
    got = {n["name"]: (n["params_total"], n["params_annotated"], n["returns_annotated"])
           for n in out["core.ast_nodes"] if n["node_type"].endswith("FunctionDef")}
    assert got == {"f": (5, 2, True), "g": (0, 0, False), "m": (1, 1, False),
                   "s": (1, 1, True), "k": (2, 1, False), "a": (0, 0, True)}


def test_relative_imports_above_the_top_package_stay_relative(tmp_path):
    out = extract(tmp_path, "from .y import b\nfrom .. import c\n", rel="top.py", module="top")
    assert {r["imported"] for r in out["core.imports"]} == {".y.b", "..c"}
    out = extract(tmp_path, "from ..x import y\nfrom . import z\n", rel="pkg/m.py", module="pkg.m")
    assert {r["imported"] for r in out["core.imports"]} == {"..x.y", "pkg.z"}


OVERLOADS = textwrap.dedent('''\
    import typing
    import typing_extensions as te
    from typing import overload


    @overload
    def command(name: str) -> int: ...
    @typing.overload
    def command(name: None = None) -> str: ...
    def command(name=None):
        return name


    class Base:
        @te.overload
        def get(self, key: int) -> int: ...
        @te.overload
        def get(self, key: str) -> str: ...
        if typing.TYPE_CHECKING:
            def get(self, key): ...
        else:
            def get(self, key):
                return key

        @overload
        def only(self) -> None: ...
        @overload
        def only(self, x: int) -> int: ...


    def command(name=None):
        return 2
''')


def test_overloads_leave_the_plain_name_to_the_implementation(tmp_path):
    """An @overload signature never runs: the plain qualname (and so the GOID callers, coverage
    and metrics are found under) belongs to the implementation, the first definition of the
    name in its scope that is not an overload, wherever it sits (after the signatures, in an
    if/else). The K-th signature is `name#overloadK`; later redefinitions keep `#N`, counted
    among the non-overload definitions. Without an implementation in the scope (a .pyi stub,
    a Protocol) the signatures are named as any redefinitions: the first has the plain name."""
    got = {q: n["lineno"] for (t, q), n in defs(extract(tmp_path, OVERLOADS, "m.py", "m")).items()
           if t != "Module"}
    assert got == {
        "m.command#overload1": 7, "m.command#overload2": 9, "m.command": 10,
        "m.Base": 14,
        "m.Base.get#overload1": 16, "m.Base.get#overload2": 18,
        "m.Base.get": 20, "m.Base.get#2": 22,
        "m.Base.only": 26, "m.Base.only#2": 28,
        "m.command#2": 31,
    }
    # The signatures never run: no function metrics or types; the implementations have them.
    out = extract(tmp_path, OVERLOADS, "m.py", "m")
    for name in ("analytics.function_metrics", "analytics.function_types"):
        assert {r["qualname"] for r in out[name]} == {
            "m.command", "m.Base.get", "m.Base.get#2", "m.Base.only", "m.Base.only#2",
            "m.command#2"}, name
