"""analytics.function_metrics and analytics.function_types from real in-process runs on temp Git
repositories: hand-checked rows, agreement with radon (cyclomatic) and complexipy (cognitive) on
two installed packages, a one-file edit re-reading that file only, and the check that every
function/method GOID has exactly one row."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
from complexipy import code_complexity
from radon.complexity import cc_visit

from codeintel_assets import run
from codeintel_assets.extract.pysource import is_overload_signature, walk
from codeintel_assets_tests.conftest import (
    checks,
    git,
    make_git_repo,
    rows,
    write_files,
)

SELECT = "*analytics/function_metrics,*analytics/function_types,*core/goids"

SHOP = '''\
import functools


def plain(a, b=1, *args, c, d=2, **kw) -> int:
    """Doc."""
    if a and b or c:
        return 1
    elif d:
        for x in args:
            if x:
                raise ValueError(x)
    return 0


class Shop:
    @functools.cache
    def price(self, item: str, qty: int = 1):
        while qty:
            qty -= 1
        return [i for i in item if i]

    @staticmethod
    def make(n: int) -> "Shop":
        return Shop()

    async def stream(self):
        def helper(y):
            return y if y else None
        yield helper(1)
        yield from []


def outer():
    try:
        pass
    except ValueError:
        pass
    def inner():
        assert x and y
        return 1
    return inner
'''

# qualname: lineno, end_lineno, loc, logical_loc, stmt_count, positional, keyword_only,
# varargs, varkw, is_async, is_generator, returns, yields, raises, cyclomatic, cognitive,
# max_nesting_depth, decorators, has_docstring, complexity_bucket
METRICS = {
    # if (+1, `and`/`or` +2), elif, for, if: McCabe 7; cognitive: if 1 + 2 sequences, elif 1,
    # for 1+1 (nesting), if 1+2
    "shop.plain": (4, 12, 9, 8, 8, 2, 2, True, True, False, False, 2, 0, 1, 7, 9, 3, 0, True,
                   "moderate"),
    "shop.Shop.price": (17, 20, 4, 3, 3, 2, 0, False, False, False, False, 1, 0, 0, 4, 3, 1, 1,
                        False, "low"),
    "shop.Shop.make": (23, 24, 2, 1, 1, 1, 0, False, False, False, False, 1, 0, 0, 1, 0, 0, 1,
                       False, "low"),
    # helper's 2 lines and its ternary are its own, for cognitive complexity too
    "shop.Shop.stream": (26, 30, 3, 3, 3, 0, 0, False, False, True, True, 0, 2, 0, 1, 0, 0, 0,
                         False, "low"),
    "shop.Shop.stream.<locals>.helper": (27, 28, 2, 1, 1, 1, 0, False, False, False, False, 1,
                                         0, 0, 2, 1, 0, 0, False, "low"),
    # cognitive: the except (1); inner's `and` is inner's
    "shop.outer": (33, 41, 6, 5, 5, 0, 0, False, False, False, False, 1, 0, 0, 2, 1, 1, 0,
                   False, "low"),
    # radon counts the assert, not the `and` inside it
    "shop.outer.<locals>.inner": (38, 40, 3, 2, 2, 0, 0, False, False, False, False, 1, 0, 0, 2,
                                  1, 0, 0, False, "low"),
}
_NULLS = {"a": None, "b": None, "*args": None, "c": None, "d": None, "**kw": None}
# qualname: params_total, params_annotated, ratio, has_return, return_type, param_types, bucket
TYPES = {
    "shop.plain": (6, 0, 0.0, True, "int", _NULLS, "partial"),
    "shop.Shop.price": (2, 2, 1.0, False, None, {"item": "str", "qty": "int"}, "partial"),
    "shop.Shop.make": (1, 1, 1.0, True, '"Shop"', {"n": "int"}, "typed"),
    "shop.Shop.stream": (0, 0, None, False, None, {}, "untyped"),
    "shop.Shop.stream.<locals>.helper": (1, 0, 0.0, False, None, {"y": None}, "untyped"),
    "shop.outer": (0, 0, None, False, None, {}, "untyped"),
    "shop.outer.<locals>.inner": (0, 0, None, False, None, {}, "untyped"),
}
METRIC_COLUMNS = (
    "lineno, end_lineno, loc, logical_loc, stmt_count, positional_params, keyword_only_params, "
    "has_varargs, has_varkw, is_async, is_generator, return_count, yield_count, raise_count, "
    "cyclomatic_complexity, cognitive_complexity, max_nesting_depth, decorator_count, "
    "has_docstring, complexity_bucket")
TYPE_COLUMNS = ("params_total, params_annotated, param_typed_ratio, has_return_annotation, "
                "return_type, param_types, typedness_bucket")


def metrics(db: Path) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in rows(
        db, f"SELECT qualname, {METRIC_COLUMNS} FROM analytics.function_metrics")}


def test_rows_types_goids_and_check(tmp_path):
    repo = make_git_repo(tmp_path / "widgets", {"shop.py": SHOP})
    db = tmp_path / "ci.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[], console_log=False)
    assert result.success
    assert metrics(db) == METRICS
    types = {r[0]: (*r[1:6], json.loads(r[6]), r[7]) for r in rows(
        db, f"SELECT qualname, {TYPE_COLUMNS} FROM analytics.function_types")}
    assert types == TYPES
    # the goid is core.goids' for the same file and qualname, and only functions/methods have one
    joined = rows(db, """SELECT g.kind, count(*) FROM analytics.function_metrics m
                         JOIN core.goids g USING (repo, goid, rel_path, qualname) GROUP BY 1""")
    assert sorted(joined) == [("function", 4), ("method", 3)]
    got = checks(result)
    assert got["analytics/function_metrics:one_row_per_function_goid"]
    assert got["analytics/function_metrics:primary_key_unique_not_null"]
    assert got["analytics/function_types:primary_key_unique_not_null"]


def test_one_file_edit_rereads_that_file(tmp_path):
    repo = make_git_repo(tmp_path / "widgets",
                         {"shop.py": SHOP, "other.py": "def f():\n    pass\n"})
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    write_files(repo, {"other.py": "def g(x):\n    return x or 1\n"})
    git(repo, "commit", "-qam", "edit")
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[], console_log=False)
    assert result.success
    meta = next(m.metadata for m in result.asset_materializations_for_node("repo_scan")
                if m.asset_key.path == ["analytics", "function_metrics"])
    assert meta["files_extracted"].value == 1
    got = metrics(db)
    assert "other.f" not in got and got["other.g"][14] == 2  # cyclomatic: the `or`
    assert {k: v for k, v in got.items() if k.startswith("shop.")} == METRICS
    assert checks(result)["analytics/function_metrics:one_row_per_function_goid"]


def _site_package(name: str) -> Path:
    module = pytest.importorskip(name)
    return Path(module.__file__).parent


def _flatten(blocks):
    """radon's blocks: functions with their closures, classes with methods and inner classes."""
    for b in blocks:
        if hasattr(b, "methods"):
            yield from _flatten(b.methods)
            yield from _flatten(b.inner_classes)
        else:
            yield b
            yield from _flatten(b.closures)


def _nested_bodies_removed(source: str) -> str:
    """`source` with the body of every def or class inside a def replaced by `pass` (the other
    lines of the body blank, so line numbers stay). complexipy counts a nested def's body toward
    its parent, as the cognitive-complexity paper does; analytics.function_metrics gives it to
    the nested def's own row only (extract/cognitive.py), so the parent's number is
    complexipy's on this source."""
    tree = ast.parse(source)
    lines = source.splitlines()
    spans = []
    for top in ast.walk(tree):
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans += [(n.body[0], n.end_lineno) for b in top.body for n in ast.walk(b)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    done = 0  # the last line blanked: a def inside a blanked body needs nothing more
    starts = [(min([f.lineno] + [d.lineno for d in getattr(f, "decorator_list", ())]), f, e)
              for f, e in spans]
    for start, first, end in sorted(starts, key=lambda t: (t[0], -t[2])):
        if start <= done:
            continue
        done = end
        head = lines[start - 1].encode()[:first.col_offset].decode() \
            if start == first.lineno else " " * first.col_offset
        lines[start - 1:end] = [head + "pass"] + [""] * (end - start)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("package", ["click", "jinja2"])
def test_agreement_with_radon_and_complexipy(tmp_path, package):
    """Every function radon reports has our cyclomatic complexity, every function complexipy
    reports (top-level functions and methods of top-level classes) our cognitive complexity,
    complexipy reading the source with nested defs' bodies removed (_nested_bodies_removed)."""
    repo = tmp_path / "pkgs"
    shutil.copytree(_site_package(package), repo / package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    make_git_repo(repo, {})
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db),
                           tools=[], console_log=False).success
    ours = rows(db, """SELECT m.rel_path, m.lineno, g.start_line, m.qualname,
                              m.cyclomatic_complexity, m.cognitive_complexity
                       FROM analytics.function_metrics m JOIN core.goids g USING (repo, goid)""")
    by_line = {(r[0], r[1]): r for r in ours}
    by_start = {(r[0], r[2], r[3].split("#")[0].rsplit(".", 1)[-1]): r for r in ours}
    cc_total = cog_total = 0
    differ = []
    for path in sorted((repo / package).rglob("*.py")):
        rel, source = path.relative_to(repo).as_posix(), path.read_text()
        # @overload signatures of an implemented name never run: no rows of ours (documented)
        signatures = {line for v in walk(ast.parse(source), "m")
                      if v.qualname and is_overload_signature(v.qualname)
                      for line in (v.node.lineno, v.node.decorator_list[0].lineno)}
        for f in _flatten(cc_visit(source)):
            if f.lineno in signatures:
                continue
            cc_total += 1
            mine = by_line[(rel, f.lineno)]
            if mine[4] != f.complexity:
                differ.append(("cyclomatic", mine[3], mine[4], f.complexity))
        for f in code_complexity(_nested_bodies_removed(source)).functions:
            if f.name == "<module>" or f.line_start in signatures:
                continue
            cog_total += 1
            mine = by_start[(rel, f.line_start, f.name.rsplit("::", 1)[-1])]
            if mine[5] != f.complexity:
                differ.append(("cognitive", mine[3], mine[5], f.complexity))
    assert cc_total > 300 and cog_total > 200
    assert differ == []  # 100%: README, "Function metrics"
