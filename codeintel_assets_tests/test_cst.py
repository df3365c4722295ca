"""cst_extract on real files: positions (ast's byte columns), qualified names, nesting."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

import codeintel_assets.extract.cst as cst_extract
import codeintel_assets.extract.cst_metadata as cst_metadata
from codeintel_assets.extract.cst import extract_cst
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.storage.catalog import table
from codeintel_assets_tests.conftest import write_files

COLUMNS = table("core.cst_nodes").column_names


def extract(tmp_path: Path, source: str | bytes, rel_path: str = "pkg/mod.py") -> list[dict]:
    write_files(tmp_path, {rel_path: source})
    out = extract_cst(FileJob("acme/widgets", "c0ffee", rel_path, str(tmp_path / rel_path)))
    assert list(out) == ["core.cst_nodes"]
    rows = out["core.cst_nodes"]
    for row in rows:
        assert list(row) == COLUMNS
    return rows


def brief(rows: list[dict]) -> list[tuple]:
    """(kind, start_line, start_col, end_line, end_col, parent_kinds, qnames) per row."""
    return [(r["kind"], r["start_line"], r["start_col"], r["end_line"], r["end_col"],
             json.loads(r["parent_kinds"]), json.loads(r["qnames"])) for r in rows]


def of_kind(rows: list[dict], kind: str) -> list[dict]:
    return [r for r in rows if r["kind"] == kind]


def test_decorated_function_starts_at_def_and_decorator_has_qnames(tmp_path):
    source = textwrap.dedent("""\
        import functools

        @functools.lru_cache(maxsize=None)
        def f(x):
            return x
        """)
    rows = extract(tmp_path, source)
    m = ["Module"]
    assert brief(rows) == [
        ("Module", 1, 0, 5, 12, [], []),
        ("Import", 1, 0, 1, 16, m, ["functools"]),
        ("Decorator", 3, 0, 3, 34, m + ["FunctionDef"], ["functools.lru_cache"]),
        ("Call", 3, 1, 3, 34, m + ["FunctionDef", "Decorator"], ["functools.lru_cache"]),
        ("FunctionDef", 4, 0, 5, 12, m, ["f"]),
        ("Return", 5, 4, 5, 12, m + ["FunctionDef"], []),
    ]
    func = of_kind(rows, "FunctionDef")[0]
    assert func == {
        "repo": "acme/widgets",
        "commit": "c0ffee",
        "rel_path": "pkg/mod.py",
        "node_id": "pkg/mod.py:FunctionDef:4:0:5:12",
        "kind": "FunctionDef",
        "start_line": 4,
        "start_col": 0,
        "end_line": 5,
        "end_col": 12,
        "text_preview": "def f(x):\n    return x",
        "parent_kinds": '["Module"]',
        "qnames": '["f"]',
    }
    assert of_kind(rows, "Decorator")[0]["text_preview"] == "@functools.lru_cache(maxsize=None)"
    # Same start line as Python's ast (a def's lineno is the `def` line, not the decorator's).
    tree_def = ast.parse(source).body[1]
    assert (func["start_line"], func["start_col"], func["end_line"], func["end_col"]) == (
        tree_def.lineno, tree_def.col_offset, tree_def.end_lineno, tree_def.end_col_offset)


def test_method_qnames_are_class_qualified(tmp_path):
    source = textwrap.dedent("""\
        class C:
            def m(self):
                self.helper()

            @property
            def p(self):
                def inner():
                    pass
                return inner
        """)
    rows = extract(tmp_path, source)
    defs = {r["text_preview"].split("(")[0]: json.loads(r["qnames"])
            for r in rows if r["kind"] in ("ClassDef", "FunctionDef")}
    assert defs == {
        "class C:\n    def m": ["C"],
        "def m": ["C.m"],
        "def p": ["C.p"],
        "def inner": ["C.p.<locals>.inner"],
    }
    # LibCST names an attribute call on a local by the local's scope: not a real qualname.
    assert json.loads(of_kind(rows, "Call")[0]["qnames"]) == ["C.m.<locals>.self.helper"]
    assert json.loads(of_kind(rows, "Decorator")[0]["qnames"]) == ["builtins.property"]


def test_call_to_imported_function_resolves_to_its_module(tmp_path):
    source = "from os.path import join\njoin('a')\n"
    rows = extract(tmp_path, source)
    assert brief(rows) == [
        ("Module", 1, 0, 2, 9, [], []),
        ("ImportFrom", 1, 0, 1, 24, ["Module"], ["os.path.join"]),
        ("Call", 2, 0, 2, 9, ["Module"], ["os.path.join"]),
    ]
    assert [r["node_id"] for r in rows] == [
        "pkg/mod.py:Module:1:0:2:9",
        "pkg/mod.py:ImportFrom:1:0:1:24",
        "pkg/mod.py:Call:2:0:2:9",
    ]


def test_import_qnames(tmp_path):
    source = textwrap.dedent("""\
        import os.path as osp, json
        from . import sibling
        from ..pkg import thing as t, other
        from .mod import *
        osp.join("a")
        t()
        print(json.dumps({}))
        undefined_name()
        """)
    rows = extract(tmp_path, source)
    assert [(r["kind"], json.loads(r["qnames"])) for r in rows[1:]] == [
        ("Import", ["json", "os.path"]),
        ("ImportFrom", [".sibling"]),
        ("ImportFrom", ["..pkg.other", "..pkg.thing"]),
        ("ImportFrom", []),
        ("Call", ["os.path.join"]),
        ("Call", ["..pkg.thing"]),
        ("Call", ["builtins.print"]),
        ("Call", ["json.dumps"]),
        ("Call", []),
    ]


def test_async_def_await_and_async_with(tmp_path):
    source = textwrap.dedent("""\
        async def g(x):
            async with x as y:
                await y.z()
            async for i in x:
                yield i
        """)
    rows = extract(tmp_path, source)
    fd = ["Module", "FunctionDef"]
    assert brief(rows) == [
        ("Module", 1, 0, 5, 15, [], []),
        ("FunctionDef", 1, 0, 5, 15, ["Module"], ["g"]),
        ("With", 2, 4, 3, 19, fd, []),
        ("Await", 3, 8, 3, 19, fd + ["With"], []),
        ("Call", 3, 14, 3, 19, fd + ["With", "Await"], ["g.<locals>.y.z"]),
        ("For", 4, 4, 5, 15, fd, []),
        ("Yield", 5, 8, 5, 15, fd + ["For"], []),
    ]
    tree = ast.parse(source)
    expected = sorted((n.lineno, n.col_offset, n.end_lineno, n.end_col_offset)
                      for n in ast.walk(tree)
                      if isinstance(n, (ast.AsyncFunctionDef, ast.AsyncWith, ast.Await, ast.Call,
                                        ast.AsyncFor, ast.Yield)))
    assert sorted(r[1:5] for r in brief(rows)[1:]) == expected


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_non_ascii_columns_are_utf8_byte_offsets_like_ast(tmp_path, newline):
    source = newline.join([
        "# -*- coding: utf-8 -*-",
        's = "héllo wörld 😀"; print(s, "→")',
        "x = {'ключ': len('日本語')}",
        "def naïve(ä='ü'): return f(ä)",
        "",
    ])
    rows = extract(tmp_path, source.encode("utf-8"))
    tree = ast.parse(source)
    ast_calls = sorted((n.lineno, n.col_offset, n.end_lineno, n.end_col_offset)
                       for n in ast.walk(tree) if isinstance(n, ast.Call))
    cst_calls = sorted(r[1:5] for r in brief(of_kind(rows, "Call")))
    assert cst_calls == ast_calls
    assert (2, 26, 2, 41) in cst_calls  # print(...): 26 bytes in, though 21 characters in
    for kind, ast_type in (("Assign", ast.Assign), ("FunctionDef", ast.FunctionDef),
                           ("Return", ast.Return)):
        assert sorted(r[1:5] for r in brief(of_kind(rows, kind))) == sorted(
            (n.lineno, n.col_offset, n.end_lineno, n.end_col_offset)
            for n in ast.walk(tree) if isinstance(n, ast_type))
    # The preview is characters, not bytes.
    assert of_kind(rows, "Call")[0]["text_preview"] == 'print(s, "→")'
    assert of_kind(rows, "FunctionDef")[0]["text_preview"] == "def naïve(ä='ü'): return f(ä)"
    assert json.loads(of_kind(rows, "FunctionDef")[0]["qnames"]) == ["naïve"]


def test_nested_parent_kinds(tmp_path):
    source = textwrap.dedent("""\
        class A:
            def m(self, xs):
                for x in xs:
                    if x:
                        try:
                            g = lambda: h(x)
                        except Exception:
                            raise
                while True:
                    return [i for i in xs]
        """)
    rows = extract(tmp_path, source)
    assert [(r["kind"], json.loads(r["parent_kinds"])) for r in rows] == [
        ("Module", []),
        ("ClassDef", ["Module"]),
        ("FunctionDef", ["Module", "ClassDef"]),
        ("For", ["Module", "ClassDef", "FunctionDef"]),
        ("If", ["Module", "ClassDef", "FunctionDef", "For"]),
        ("Try", ["Module", "ClassDef", "FunctionDef", "For", "If"]),
        ("Assign", ["Module", "ClassDef", "FunctionDef", "For", "If", "Try"]),
        ("Lambda", ["Module", "ClassDef", "FunctionDef", "For", "If", "Try", "Assign"]),
        ("Call", ["Module", "ClassDef", "FunctionDef", "For", "If", "Try", "Assign", "Lambda"]),
        ("Raise", ["Module", "ClassDef", "FunctionDef", "For", "If", "Try"]),
        ("While", ["Module", "ClassDef", "FunctionDef"]),
        ("Return", ["Module", "ClassDef", "FunctionDef", "While"]),
    ]


def test_rows_convert_to_arrow_and_node_ids_are_unique(tmp_path):
    source = textwrap.dedent("""\
        import functools
        from typing import Any

        x: int = 1
        x += 2
        del x
        assert True, "msg"

        def outer():
            global G
            y = 0

            def inner():
                nonlocal y
                y = 1
            return inner

        match 1:
            case 1:
                pass

        try:
            pass
        except* ValueError:
            pass

        @functools.wraps(outer)
        @functools.wraps(outer)
        def twice(): pass
        """)
    rows = extract(tmp_path, source)
    kinds = {r["kind"] for r in rows}
    assert kinds == {"Module", "Import", "ImportFrom", "AnnAssign", "AugAssign", "Del", "Assert",
                     "FunctionDef", "Global", "Assign", "Nonlocal", "Return", "Match", "TryStar",
                     "Decorator", "Call"}
    ids = [r["node_id"] for r in rows]
    assert len(ids) == len(set(ids))
    arrow = table("core.cst_nodes").from_rows(rows)
    assert arrow.num_rows == len(rows)
    assert arrow.schema == table("core.cst_nodes").arrow_schema
    assert arrow.column("kind").null_count == 0
    assert arrow.column("qnames").null_count == 0


def test_module_row_and_long_preview(tmp_path):
    source = "x = [\n" + "".join(f"    {i},\n" for i in range(100)) + "]\n"
    rows = extract(tmp_path, source)
    module, assign = rows
    assert (module["start_line"], module["start_col"], module["end_line"], module["end_col"]) \
        == (1, 0, 102, 1)
    assert module["text_preview"] == source[:200]
    assert assign["text_preview"] == source[:200]
    assert (assign["end_line"], assign["end_col"]) == (102, 1)


def test_matches_libcst_wrapper_and_qualified_name_provider(tmp_path):
    """The direct provider runs give what MetadataWrapper + QualifiedNameProvider give."""
    source = textwrap.dedent("""\
        import os, os.path as osp
        from collections import OrderedDict as OD
        from . import sib

        def deco(f):
            return f

        class K(OD):
            attr = osp.join("a")

            @deco
            def m(self, v=os.getcwd()):
                local = sib.make()
                local.run()
                return [deco(i) for i in range(3)]

        if os.environ:
            def deco(f):
                return f
        deco(K)
        """)
    rows = extract(tmp_path, source)
    expected = []

    class Collect(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider)

        def on_visit(self, node):
            kind = type(node).__name__
            target = {"Call": "func", "FunctionDef": "name", "ClassDef": "name",
                      "Decorator": "decorator"}.get(kind)
            if target:
                rng = self.get_metadata(PositionProvider, node)
                qn = self.get_metadata(QualifiedNameProvider, getattr(node, target))
                expected.append((kind, rng.start.line, rng.start.column, rng.end.line,
                                 rng.end.column, sorted(q.name for q in qn)))
            return True

    MetadataWrapper(cst.parse_module(source)).visit(Collect())
    got = [(k, sl, sc, el, ec, qn) for k, sl, sc, el, ec, _, qn in brief(rows)
           if k in ("Call", "FunctionDef", "ClassDef", "Decorator")]
    assert sorted(got) == sorted(expected)
    assert ("Call", 20, 0, 20, 7, ["deco"]) in got  # two definitions of deco: one name


def test_wrapper_fallback_gives_the_same_rows(tmp_path, monkeypatch):
    source = "import os\n\nclass C:\n    @staticmethod\n    def f():\n        os.sep.join([])\n"
    fast = extract(tmp_path, source)

    class Changed:  # stands in for a LibCST release whose provider API moved
        pass

    monkeypatch.setattr(cst_metadata, "ExpressionContextProvider", Changed)
    assert extract(tmp_path, source) == fast


# Constructs whose scoping or positions take LibCST special paths: walrus, global/nonlocal,
# comprehensions (first iterable outside), lambdas, class bodies hidden from methods, string
# annotations and typing.cast, match patterns, f-strings, star targets, decorators, parens,
# backslash continuations, CRLF and a non-ASCII name.
SCOPING = (
    "import typing\r\nfrom typing import cast, List as L\r\nx = 1\r\n"
    "def outer(a, *b, c=x, **d) -> 'L[int]':\r\n"
    "    global x\r\n    y = [x for x in b if (z := x)]\r\n"
    "    def inner():\r\n        nonlocal y\r\n        y = cast('L[int]', a)\r\n"
    "        return (lambda q: q(y))(inner)\r\n"
    "    return inner\r\n"
    "class K(typing.Generic):\r\n    v = 1\r\n    w = [v for _ in range(3)]\r\n"
    "    @staticmethod\r\n    def m(): return v, K.v\r\n"
    "match outer(1):\r\n    case [a, *rest] if a: print(a, rest)\r\n"
    "    case {'k': K() as kk, **kw}: print(kk, kw)\r\n"
    "s = f\"{outer(2)!r:>{x}}\" + \\\r\n    'tail'\r\n"
    "(p, *q), r = é = [1, 2], 3\r\ndel p\r\nfor i, j in {}.items(): i(j)\r\n"
)


def test_metadata_equals_the_providers_for_every_node():
    """cst_metadata's spans equal PositionProvider's for every node, and the scopes give
    QualifiedNameProvider's names for every name, attribute and call; the nodes the code
    generation records are a walk's (in source order: a def's decorators before its body)."""
    module = cst.parse_module(SCOPING)
    found = cst_metadata.metadata(module, cst_extract._KIND_OF)
    spans, scopes = found.spans, found.scopes
    def ids(recorded):
        return sorted((id(node), kind, parents) for node, kind, parents in recorded)
    assert ids(found.recorded) == ids(cst_metadata._walk_recorded(module, cst_extract._KIND_OF))
    assert {kind for _, kind, _ in found.recorded} >= {"Module", "FunctionDef", "Call", "Match"}
    wrapper = MetadataWrapper(cst.parse_module(SCOPING))
    positions = wrapper.resolve(PositionProvider)
    qualified = wrapper.resolve(QualifiedNameProvider)
    assert len(spans) == len(positions)
    assert sorted(spans.values()) == sorted((r.start.line, r.start.column, r.end.line,
                                             r.end.column) for r in positions.values())

    def names(tree, of):  # (position, qualified names) of every Name/Attribute/Call
        out = []

        class Each(cst.CSTVisitor):
            def on_visit(self, node):
                if isinstance(node, (cst.Name, cst.Attribute, cst.Call)):
                    out.append((type(node).__name__, of(node)))
                return True

        tree.visit(Each())
        return out

    got = names(module, lambda n: sorted(q.name for q in scopes[n].get_qualified_names_for(n))
                if n in scopes else [])
    def provided(node):  # QualifiedNameProvider's values are lazy
        value = qualified.get(node, ())
        return sorted(q.name for q in (value() if callable(value) else value))

    expected = names(wrapper.module, provided)
    assert got == expected
    assert ("Call", ["typing.cast"]) in got and any("outer.<locals>" in q for _, n in got
                                                      for q in n)


def test_parse_errors_propagate(tmp_path):
    with pytest.raises(cst.ParserSyntaxError):
        extract(tmp_path, "def broken(:\n    pass\n")


def test_same_kind_and_span_get_numbered_node_ids(tmp_path, monkeypatch):
    # No two recorded LibCST nodes of one kind share a span in real code; recording the `Expr`
    # statement around a yield as a "Yield" too forces the collision the suffix exists for.
    monkeypatch.setitem(cst_extract._KIND_OF, cst.Expr, "Yield")
    rows = extract(tmp_path, "def g():\n    yield 1\n")
    assert [r["node_id"] for r in rows] == [
        "pkg/mod.py:Module:1:0:2:11",
        "pkg/mod.py:FunctionDef:1:0:2:11",
        "pkg/mod.py:Yield:2:4:2:11",
        "pkg/mod.py:Yield:2:4:2:11#2",
    ]
    assert [json.loads(r["parent_kinds"]) for r in rows] == [
        [], ["Module"], ["Module", "FunctionDef"], ["Module", "FunctionDef", "Yield"]]


def test_module_row_matches_ast_with_and_without_final_newline(tmp_path):
    for source in ("x = 1", "def f():\n    return 1  # c", "a = 'é'\r\nb = 2", "é = 1\n\n", ""):
        rows = extract(tmp_path, source.encode())
        module = next(r for r in rows if r["kind"] == "Module")
        lines = source.replace("\r\n", "\n").split("\n")
        last = max(1, len(lines) - (1 if source.endswith("\n") else 0))
        assert (module["start_line"], module["start_col"], module["end_line"], module["end_col"]) \
            == (1, 0, last, len(lines[last - 1].encode())), repr(source)
