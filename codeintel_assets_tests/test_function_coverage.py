"""analytics.coverage_functions and analytics.test_coverage_edges end to end: a real pytest
suite run by ToolService on a temp Git repository, in an in-process Dagster run, compared with
an independent computation from coverage.py's own API on the same data file and Python's ast.
Also test_catalog.test_goid of inherited and parametrized tests."""

from __future__ import annotations

import ast
import shutil
from collections import defaultdict
from pathlib import Path

import coverage
import dagster as dg
import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.tools.coverage_data import context_test_id
from codeintel_assets_tests.conftest import make_git_repo

CART = '''import functools


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper


@logged
def total(
    prices,
    tax=0,
):
    """Sum with tax."""
    return sum(prices) + tax


def one_liner(): return 1


def used_one_liner(x): return x * 2


def outer(n):
    def inner(k):
        return k * 2
    return inner(n) + 1


class Cart:
    limit = 3

    def add(self, item):
        if item is None:
            raise ValueError("no item")
        return [item]

    def only_doc(self):
        """Nothing to run."""

    def never(self):
        return 0


def never_called():
    x = 1
    return x
'''

FILES = {
    "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["src"]\n',
    "src/shop/__init__.py": "",
    "src/shop/cart.py": CART,
    "src/shop/unused.py": "def idle():\n    return None\n",
    "tests/base.py": '''from shop.cart import total


class BaseChecks:
    def test_total(self):
        assert total([1, 2]) == 3
''',
    "tests/test_cart.py": '''import pytest

from base import BaseChecks
from shop.cart import Cart, outer, used_one_liner


class TestCart(BaseChecks):
    def test_add(self):
        assert Cart().add(1) == [1]


class LocalBase:
    def test_outer(self):
        assert outer(1) == 3


class TestLocal(LocalBase):
    pass


@pytest.mark.parametrize("x", [1, 2])
def test_double(x):
    assert used_one_liner(x) == 2 * x


def test_fails():
    assert Cart().add(None) == []
''',
}
SELECT = "*analytics/coverage_functions,*analytics/test_coverage_edges"
# The files coverage.py measures (src/shop/unused.py is never imported).
MEASURED = ("src/shop/cart.py", "tests/base.py", "tests/test_cart.py")


@pytest.fixture(scope="module")
def coverage_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cov")
    repo = make_git_repo(tmp / "shop", FILES, remote="git@github.com:acme/shop.git")
    db = tmp / "cov.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=["tests"])
    assert result.success
    return repo, db, result


def q(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# ---- the independent computation: coverage.py's API + ast ---------------------------------


def _scopes(source: str) -> tuple[dict[str, tuple[int, int, bool]], list]:
    """qualname (module-less, as __qualname__, `#N` for redefinitions) -> (first body line,
    end line, one-line def) of every def, and every (first body line, end line, qualname or
    None for a class) scope: a scope's own lines start at its body (the def/class line and
    decorators belong to the enclosing scope)."""
    functions, scopes = {}, []
    seen: dict[str, int] = defaultdict(int)

    def visit(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qual = f"{prefix}{child.name}"
                seen[qual] += 1  # the N-th definition of a name is `name#N` (CATALOG.md)
                key = qual if seen[qual] == 1 else f"{qual}#{seen[qual]}"
                first = child.body[0]  # its decorators are part of the body
                start = min([first.lineno, *(d.lineno for d in
                                             getattr(first, "decorator_list", ()))])
                is_def = not isinstance(child, ast.ClassDef)
                if is_def:
                    functions[key] = (start, child.end_lineno, start == child.lineno)
                scopes.append((start, child.end_lineno, key if is_def else None))
                visit(child, f"{qual}.<locals>." if is_def else f"{qual}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return functions, scopes


def independent(data_file: Path, root: Path, rel: str, module: str) -> dict:
    """qualname -> (executable lines, covered lines, {test node id: lines it ran}) of every
    function and method of `rel`, from coverage.py's analysis and contexts and ast scopes."""
    cov = coverage.Coverage(data_file=str(data_file))
    cov.load()
    path = str(root / rel)
    _, statements, _, missing, _ = cov.analysis2(path)
    contexts = cov.get_data().contexts_by_lineno(path)
    functions, scopes = _scopes((root / rel).read_text())
    out = {q: [0, 0, defaultdict(int)] for q in functions}
    for line in statements:
        inside = [s for s in scopes if s[0] <= line <= s[1]]
        if not inside:
            continue
        qual = min(inside, key=lambda s: s[1] - s[0])[2]
        if qual is None:  # a class body line
            continue
        tests = {context_test_id(c) for c in contexts.get(line, ()) if c}
        ran = line not in missing and (not functions[qual][2] or bool(tests))
        out[qual][0] += 1
        out[qual][1] += ran
        for test in tests if ran else ():
            out[qual][2][test] += 1
    return {f"{module}.{q}": (e, c, dict(t)) for q, (e, c, t) in out.items()}


def compare(repo: Path, db: Path) -> tuple[dict, dict]:
    """(ours, independent): qualname -> (executable lines, covered lines, {test: lines}) of
    every function of the files coverage.py measured, from the tables and from `independent`
    on the run's own data file."""
    data_file = next((db.parent / "testruns").rglob(".coverage"))
    modules = dict(q(db, "SELECT rel_path, qualname FROM core.goids WHERE kind = 'module'"))
    measured = [r[0] for r in q(db, "SELECT DISTINCT rel_path FROM analytics.coverage_lines")]
    expected = {}
    for rel in measured:
        expected.update(independent(data_file, repo, rel, modules[rel]))
    edges: dict[str, dict[str, int]] = defaultdict(dict)
    for qual, test, lines in q(db, "SELECT qualname, test_id, covered_lines "
                                   "FROM analytics.test_coverage_edges"):
        edges[qual][test] = lines
    got = {r[0]: (r[1], r[2], edges[r[0]]) for r in q(db, """
        SELECT qualname, executable_lines, covered_lines FROM analytics.coverage_functions
        WHERE rel_path IN (SELECT rel_path FROM analytics.coverage_lines)""")}
    return got, expected


def assert_agreement(got: dict, expected: dict, label: str) -> None:
    assert set(got) == set(expected)
    agree = sum(got[k] == expected[k] for k in expected)
    edges = sum(len(e[2]) for e in expected.values())
    print(f"{label}: agreement with coverage.py + ast: {agree}/{len(expected)} functions "
          f"(lines and edges), {edges} edges")
    assert agree == len(expected), {k: (got[k], expected[k]) for k in expected
                                    if got[k] != expected[k]}


def test_agrees_with_coverage_py_and_ast(coverage_run):
    """Every function's executable and covered lines and every (test, function) edge's
    covered lines equal what coverage.py's API and ast scopes give."""
    repo, db, _ = coverage_run
    got, expected = compare(repo, db)
    assert set(MEASURED) == {r[0] for r in q(db, "SELECT rel_path FROM analytics.coverage_lines")}
    assert len(got) == 16
    assert_agreement(got, expected, "shop")


def test_agrees_on_radons_own_suite(tmp_path):
    """The same on a real project's suite: radon 6.0.1 (a test-only pin) with its tests, from
    the venv (404 tests: parametrized, classes, redefinitions, property setters; its tests
    needing pytest-mock are errors)."""
    radon = Path(pytest.importorskip("radon").__file__).parent
    repo = tmp_path / "radon"
    shutil.copytree(radon, repo / "radon", ignore=shutil.ignore_patterns("__pycache__"))
    make_git_repo(repo, {})
    db = tmp_path / "radon.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=["tests"],
                           console_log=False).success
    got, expected = compare(repo, db)
    assert len(got) > 200 and sum(len(e[2]) for e in expected.values()) > 1500
    assert_agreement(got, expected, "radon")
    assert q(db, "SELECT count(*), count(test_goid) FROM analytics.test_catalog") == [(404, 404)]


def test_ownership_rules(coverage_run):
    _, db, _ = coverage_run
    rows = {r[0]: r[1:] for r in q(db, """
        SELECT qualname, executable_lines, covered_lines, coverage_ratio, test_count, tested,
               untested_reason FROM analytics.coverage_functions""")}
    # the def line and the decorator do not count: only `return sum(...)`
    assert rows["shop.cart.total"] == (1, 1, 1.0, 1, True, None)
    # wrapper's def runs when `logged` runs (at import): logged owns it, and is "tested"
    # (it ran in the suite) without any test context
    assert rows["shop.cart.logged"] == (3, 3, 1.0, 0, True, None)
    assert rows["shop.cart.logged.<locals>.wrapper"] == (1, 1, 1.0, 1, True, None)
    # inner's lines are not outer's; `def inner` is outer's
    assert rows["shop.cart.outer"] == (2, 2, 1.0, 1, True, None)
    assert rows["shop.cart.outer.<locals>.inner"] == (1, 1, 1.0, 1, True, None)
    # a one-line def: covered only by a test's context, not by the import
    assert rows["shop.cart.one_liner"] == (1, 0, 0.0, 0, False, "not_executed")
    assert rows["shop.cart.used_one_liner"] == (1, 1, 1.0, 2, True, None)
    assert rows["shop.cart.Cart.add"][:2] == (3, 3)
    assert rows["shop.cart.Cart.only_doc"] == (0, 0, None, 0, False, "no_executable_lines")
    assert rows["shop.cart.Cart.never"] == (1, 0, 0.0, 0, False, "not_executed")
    assert rows["shop.cart.never_called"] == (2, 0, 0.0, 0, False, "not_executed")
    assert rows["shop.unused.idle"] == (0, 0, None, 0, False, "file_not_measured")
    # `limit = 3` is the class's: no function owns it
    assert not q(db, "SELECT 1 FROM analytics.coverage_functions f JOIN core.goids g "
                     "USING (goid) WHERE g.kind NOT IN ('function', 'method')")


def test_edges_and_test_goids(coverage_run):
    _, db, result = coverage_run
    catalog = {r[0]: r[1:] for r in q(db, """
        SELECT t.test_id, t.status, g.qualname, g.rel_path FROM analytics.test_catalog t
        LEFT JOIN core.goids g ON g.goid = t.test_goid""")}
    # inherited from another file, from the same file, and both cases of a parametrized test
    assert catalog == {
        "tests/test_cart.py::TestCart::test_total": ("passed", "base.BaseChecks.test_total",
                                                     "tests/base.py"),
        "tests/test_cart.py::TestCart::test_add": ("passed", "test_cart.TestCart.test_add",
                                                   "tests/test_cart.py"),
        "tests/test_cart.py::TestLocal::test_outer": ("passed", "test_cart.LocalBase.test_outer",
                                                      "tests/test_cart.py"),
        "tests/test_cart.py::test_double[1]": ("passed", "test_cart.test_double",
                                               "tests/test_cart.py"),
        "tests/test_cart.py::test_double[2]": ("passed", "test_cart.test_double",
                                               "tests/test_cart.py"),
        "tests/test_cart.py::test_fails": ("failed", "test_cart.test_fails",
                                           "tests/test_cart.py"),
    }
    edges = {(r[0], r[1]): r[2:] for r in q(db, """
        SELECT e.test_id, e.qualname, e.covered_lines, e.executable_lines, e.coverage_ratio,
               e.last_status, t.qualname
        FROM analytics.test_coverage_edges e JOIN core.goids t ON t.goid = e.test_goid""")}
    assert edges[("tests/test_cart.py::test_fails", "shop.cart.Cart.add")] == (
        2, 3, 2 / 3, "failed", "test_cart.test_fails")
    assert edges[("tests/test_cart.py::TestCart::test_total", "shop.cart.total")] == (
        1, 1, 1.0, "passed", "base.BaseChecks.test_total")
    # every edge names a test of the catalog; tests' own files are functions too
    assert q(db, "SELECT count(*) FROM analytics.test_coverage_edges WHERE test_goid IS NULL "
                 "OR last_status IS NULL") == [(0,)]
    assert ("tests/test_cart.py::TestCart::test_total", "base.BaseChecks.test_total") in edges
    # the example query of the README: which tests cover function X
    assert q(db, """
        SELECT e.test_id, e.last_status FROM analytics.test_coverage_edges e
        JOIN core.goids g USING (repo, goid)
        WHERE g.qualname = 'shop.cart.Cart.add' ORDER BY e.test_id""") == [
        ("tests/test_cart.py::TestCart::test_add", "passed"),
        ("tests/test_cart.py::test_fails", "failed")]
    checks = {e.event_specific_data.asset_check_key: e.event_specific_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    names = {(k.asset_key.to_user_string(), k.name) for k in checks}
    assert ("analytics/coverage_functions", "one_row_per_function_goid") in names
    assert ("analytics/test_coverage_edges", "primary_key_unique_not_null") in names
    assert all(checks.values()), checks


def test_no_test_run_means_no_coverage_data(tmp_path):
    """The suite disabled: coverage_lines is written empty; every function is untested with
    reason no_coverage_data and there are no edges. Without the test tables at all (a
    selection that never writes them) the same."""
    repo = make_git_repo(tmp_path / "shop", FILES)
    db = tmp_path / "none.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[]).success
    rows = q(db, "SELECT DISTINCT tested, untested_reason, coverage_ratio FROM "
                 "analytics.coverage_functions")
    assert rows == [(False, "no_coverage_data", None)]
    assert q(db, "SELECT count(*) FROM analytics.coverage_functions") == \
        q(db, "SELECT count(*) FROM core.goids WHERE kind IN ('function', 'method')")
    assert q(db, "SELECT count(*) FROM analytics.test_coverage_edges") == [(0,)]

    db2 = tmp_path / "alone.duckdb"
    keys = [dg.AssetKey(["analytics", "coverage_functions"]),
            dg.AssetKey(["analytics", "test_coverage_edges"]), dg.AssetKey(["core", "goids"])]
    assert run.materialize("*core/goids", target=str(repo), db=str(db2), tools=[]).success
    assert run.materialize(dg.AssetSelection.assets(*keys), target=str(repo), db=str(db2),
                           tools=[]).success
    assert q(db2, "SELECT DISTINCT untested_reason FROM analytics.coverage_functions") == [
        ("no_coverage_data",)]


def test_coverage_of_another_commit_is_no_coverage_data(coverage_run, tmp_path):
    """Coverage rows of an earlier snapshot (a later run that did not start the suite keeps
    them) describe other lines: no coverage data, and the metadata says which commit."""
    from codeintel_assets.storage import function_coverage as fc
    from codeintel_assets.storage.gateway import StorageGateway

    _, db, _ = coverage_run
    copy = tmp_path / "stale.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy)) as con:
        old = con.execute("SELECT any_value(\"commit\") FROM core.goids").fetchone()[0]
        con.execute("UPDATE core.goids SET \"commit\" = repeat('0', 40)")
    got = fc.coverage_functions(StorageGateway(copy), "acme/shop", True)
    assert got.coverage.stale_commit == old and not got.coverage.has_data
    assert set(got.functions.column("untested_reason").to_pylist()) == {"no_coverage_data"}
    assert old in got.as_metadata()["skipped"]
    sql, _ = fc.test_coverage_edges(StorageGateway(copy), "acme/shop", True, True)
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute(sql.query, sql.params).fetchall() == []
