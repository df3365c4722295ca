"""tools/testrun: one real pytest run of a temp target under coverage, read into both tables."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from codeintel_assets.extract.goids import AST_COLUMNS, goid, goids_from_ast_nodes
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.python_ast import extract_ast
from codeintel_assets.extract.naming import module_names
from codeintel_assets.extract.scan import list_files
from codeintel_assets.storage.catalog import table
from codeintel_assets.tools import coverage_data, pytest_report, testrun
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets_tests.conftest import write_files

REPO = "acme/calc"
PYTHON = sys.executable

CALC = '''\
def add(a, b):
    return a + b


def div(a, b):
    if b == 0:
        raise ZeroDivisionError("b is zero")
    return a / b


def unused():
    return 42


def total(*xs):
    return sum(
        x for x in xs
    )
'''

TESTS = '''\
import pytest

from pkg.calc import add, div, total


def test_add():
    assert add(1, 2) == 3


def test_div_by_zero_fails():
    assert div(1, 0) == 0


@pytest.mark.skip(reason="not today")
def test_skipped():
    assert False


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert div(4, 2) == 3


@pytest.mark.parametrize("a, b", [(1, 1), (2, 3)])
def test_param(a, b):
    assert add(a, b) == a + b


class TestDiv:
    def test_half(self):
        assert div(1, 2) == 0.5


@pytest.mark.slow
def test_slow():
    assert total(1, 2) == 3
'''

TARGET: dict[str, str | bytes] = {
    "pkg/__init__.py": "",
    "pkg/calc.py": CALC,
    "tests/__init__.py": "",
    "tests/test_calc.py": TESTS,
    "tests/test_broken.py": "def broken(:\n    pass\n",
    # Skipped at collection: pytest's summary counts it as one skipped.
    "tests/test_later.py": "import pytest\n\npytest.skip('needs a GPU', allow_module_level=True)"
                           "\n\n\ndef test_gpu():\n    pass\n",
    # addopts would stop the run at the first failure; the target's coverage config would
    # redirect the data file and fail under 100%: the run ignores both. Its omit is what
    # coverage.py's report leaves out, so the rows leave it out too (coverage_data).
    "pytest.ini": "[pytest]\naddopts = -x\nmarkers =\n    slow: slow tests\n",
    ".coveragerc": "[run]\ndata_file = should_not_exist\nomit = tests/test_later.py\n"
                   "[report]\nfail_under = 100\n",
}

T = "tests/test_calc.py::"


def _module_of(root: Path) -> dict[str, str]:
    paths = [p for p in list_files(root) if p.endswith(".py")]
    return {rel: name.module for rel, name in module_names(paths).items()}


def _test_rows(report: str, root: Path, module_of: dict[str, str] | None = None) -> list[dict]:
    """test_rows with test_goid joined, as tests_ingest does, from the GOIDs the real
    extractors give the files under `root` (core.ast_nodes -> core.goids)."""
    module_of = _module_of(root) if module_of is None else module_of
    definitions = []
    for rel, module in module_of.items():
        job = FileJob(REPO, "c", rel, str(root / rel), module)
        try:
            nodes = extract_ast(job)["core.ast_nodes"]
        except SyntaxError:
            continue
        defs = table("core.ast_nodes").from_rows(nodes).select(AST_COLUMNS)
        definitions += goids_from_ast_nodes(REPO, defs).to_pylist()
    return pytest_report.resolve_test_goids(
        pytest_report.test_rows(report, str(root), module_of), definitions)


@pytest.fixture(scope="module")
def target_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("target")
    write_files(root, TARGET)
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    work = tmp_path_factory.mktemp("work")
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(work), timeout_s=120)
    after = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    return root, run, before, after


def _by(rows, key):
    return {r[key]: r for r in rows}


def test_run_tests_runs_once_and_leaves_the_target_untouched(target_run):
    root, run, before, after = target_run
    assert run.returncode == 1  # a failing test (and a collection error) is still a success
    assert run.wall_s > 0
    assert os.path.exists(run.report_path) and run.coverage_path
    assert os.path.dirname(run.coverage_path) == os.path.dirname(run.report_path)
    assert after == before  # no __pycache__, .pytest_cache, .coverage or should_not_exist
    argv = run.argv
    for flag in ("--cov-context=test", "--cov-report=", "--json-report",
                 "--continue-on-collection-errors", f"--cov={root}", f"--rootdir={root}"):
        assert flag in argv
    assert argv[argv.index("-o") + 1] == "addopts="


def test_test_rows_exact(target_run):
    root, run, _, _ = target_run
    rows = _test_rows(run.report_path, root)
    for r in rows:
        assert r["duration_ms"] >= 0
    got = {r["test_id"]: {k: v for k, v in r.items() if k not in ("duration_ms", "test_id")}
           for r in rows}

    def row(qual, status, markers=(), message=None, param=False, method=False,
            rel="tests/test_calc.py"):
        kind = "method" if method else "function"
        return {"rel_path": rel, "qualname": qual,
                "test_goid": goid(REPO, "python", rel, kind, qual),
                "kind": "parametrized_case" if param else "function", "status": status,
                "markers": json.dumps(list(markers)), "parametrized": param, "flaky": False,
                "message": message}

    m = "tests.test_calc."
    assert got == {
        T + "test_add": row(m + "test_add", "passed"),
        T + "test_div_by_zero_fails": row(m + "test_div_by_zero_fails", "failed",
                                          message="ZeroDivisionError: b is zero"),
        T + "test_skipped": row(m + "test_skipped", "skipped", ["skip"], "not today"),
        T + "test_xfail": row(m + "test_xfail", "xfailed", ["xfail"], "assert 2.0 == 3"),
        T + "test_param[1-1]": row(m + "test_param", "passed", ["parametrize"], param=True),
        T + "test_param[2-3]": row(m + "test_param", "passed", ["parametrize"], param=True),
        T + "TestDiv::test_half": row(m + "TestDiv.test_half", "passed", method=True),
        T + "test_slow": row(m + "test_slow", "passed", ["slow"]),
        "tests/test_broken.py": {
            # A file with a syntax error has no definitions in core.goids: no GOID to name.
            "rel_path": "tests/test_broken.py", "qualname": "tests.test_broken",
            "test_goid": None,
            "kind": "module", "status": "error", "markers": "[]", "parametrized": False,
            "flaky": False, "message": "SyntaxError: invalid syntax"},
        "tests/test_later.py": {
            # A collector's GOID is its module's.
            "rel_path": "tests/test_later.py", "qualname": "tests.test_later",
            "test_goid": goid(REPO, "python", "tests/test_later.py", "module", "tests.test_later"),
            "kind": "module", "status": "skipped", "markers": "[]", "parametrized": False,
            "flaky": False, "message": "needs a GPU"},
    }


def test_coverage_rows_exact_lines(target_run):
    root, run, _, _ = target_run
    rows = coverage_data.coverage_rows(run.coverage_path, str(root))
    calc = {r["line"]: r for r in rows if r["rel_path"] == "pkg/calc.py"}

    def ctx(line):
        r = calc[line]
        assert r["hits"] == r["context_count"] == len(json.loads(r["contexts"]))
        return (r["is_executable"], r["is_covered"], json.loads(r["contexts"]))

    assert sorted(calc) == [1, 2, 5, 6, 7, 8, 11, 12, 15, 16]  # statements; 17-18 fold into 16
    assert ctx(1) == (True, True, [])  # ran at import (collection): covered, no test context
    assert ctx(2) == (True, True, [T + "test_add", T + "test_param[1-1]", T + "test_param[2-3]"])
    assert ctx(6) == (True, True, [T + "TestDiv::test_half", T + "test_div_by_zero_fails",
                                   T + "test_xfail"])
    assert ctx(7) == (True, True, [T + "test_div_by_zero_fails"])  # only the failing test
    assert ctx(8) == (True, True, [T + "TestDiv::test_half", T + "test_xfail"])
    assert ctx(12) == (True, False, [])  # never ran
    assert calc[12]["hits"] == 0
    assert ctx(16) == (True, True, [T + "test_slow"])  # the genexpr line maps to its statement
    # test files are measured too (no `source`: the whole checkout); the broken one cannot
    # be, the empty __init__.py files have no statements, so they have no rows, and the
    # target's .coveragerc omits tests/test_later.py
    assert {r["rel_path"] for r in rows} == {"pkg/calc.py", "tests/test_calc.py"}


def test_every_context_is_a_test_id(target_run):
    root, run, _, _ = target_run
    test_ids = {r["test_id"] for r in _test_rows(run.report_path, root)}
    contexts = {c for r in coverage_data.coverage_rows(run.coverage_path, str(root))
                for c in json.loads(r["contexts"])}
    assert contexts and contexts <= test_ids
    # the skipped test never ran its body
    assert T + "test_skipped" not in contexts


def test_coverage_rows_scanned_filter(target_run):
    root, run, _, _ = target_run
    rows = coverage_data.coverage_rows(run.coverage_path, str(root), {"pkg/calc.py"})
    assert {r["rel_path"] for r in rows} == {"pkg/calc.py"}
    rows = coverage_data.coverage_rows(run.coverage_path, str(root),
                                       {"pkg/calc.py", "tests/test_broken.py"})
    assert {r["rel_path"] for r in rows} == {"pkg/calc.py"}  # broken: unparsable


def test_existing_run_reads_the_same_files(target_run):
    root, run, _, _ = target_run
    existing = testrun.existing_run(str(root), run.coverage_path, run.report_path)
    assert coverage_data.coverage_rows(existing.coverage_path, str(root)) == \
        coverage_data.coverage_rows(run.coverage_path, str(root))
    assert _test_rows(existing.report_path, root) == \
        _test_rows(run.report_path, root)
    missing = testrun.existing_run(str(root), "nope/.coverage", None)
    assert (missing.coverage_path, missing.report_path) == (None, "")


def test_failing_suite_still_yields_rows(tmp_path):
    root = tmp_path / "t"
    write_files(root, {"mod.py": "def f():\n    return 1\n",
                       "test_mod.py": "from mod import f\n\ndef test_f():\n    assert f() == 2\n"})
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(tmp_path / "w"), 120)
    assert run.returncode == 1 and run.coverage_path
    rows = _test_rows(run.report_path, root, {"test_mod.py": "test_mod"})
    assert [(r["test_id"], r["status"], r["message"]) for r in rows] == [
        ("test_mod.py::test_f", "failed", "assert 1 == 2")]
    cov = {(r["rel_path"], r["line"]): json.loads(r["contexts"])
           for r in coverage_data.coverage_rows(run.coverage_path, str(root))}
    assert cov[("mod.py", 2)] == ["test_mod.py::test_f"]


def test_no_tests_is_empty(tmp_path):
    root = tmp_path / "t"
    write_files(root, {"pkg/__init__.py": "", "pkg/m.py": "def f():\n    return 1\n"})
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(tmp_path / "w"), 120)
    assert (run.returncode, run.status) == (5, testrun.NO_TESTS)
    assert "collected no tests" in run.reason
    assert _test_rows(run.report_path, root) == []
    cov = coverage_data.coverage_rows(run.coverage_path, str(root)) if run.coverage_path else []
    assert all(not r["is_covered"] for r in cov)


def test_timeout_is_recorded_not_raised(tmp_path):
    root = tmp_path / "t"
    write_files(root, {"test_slow.py": "import time\n\ndef test_s():\n    time.sleep(60)\n"})
    started = time.perf_counter()
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(tmp_path / "w"), timeout_s=3)
    assert time.perf_counter() - started < 30  # the process group was killed
    assert (run.status, run.returncode, run.report_path) == (testrun.TIMED_OUT, None, "")
    assert "timeout of 3s" in run.reason


def test_usage_error_is_recorded_with_the_reason(tmp_path):
    root = tmp_path / "t"
    write_files(root, {"test_a.py": "def test_a():\n    pass\n"})
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(tmp_path / "w"), 120,
                            ["--no-such-flag"])
    assert (run.status, run.returncode) == (testrun.CRASHED, 4)
    assert "--no-such-flag" in run.reason


def test_conftest_crash_at_start_up_is_recorded(tmp_path):
    root = tmp_path / "t"
    write_files(root, {"conftest.py": "def pytest_configure(config):\n"
                                      "    raise RuntimeError('conftest exploded')\n",
                       "test_a.py": "def test_a():\n    pass\n"})
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(tmp_path / "w"), 120)
    assert run.status == testrun.CRASHED and not run.completed
    assert "conftest exploded" in run.reason


def test_interrupted_run_with_a_report_is_returned(tmp_path):
    root = tmp_path / "t"
    write_files(root, {"test_a.py": "import pytest\n\ndef test_a():\n    pass\n\n"
                                    "def test_b():\n    pytest.exit('stop', returncode=2)\n\n"
                                    "def test_c():\n    pass\n"})
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(tmp_path / "w"), 120)
    assert (run.returncode, run.status) == (2, testrun.INTERRUPTED)
    rows = _test_rows(run.report_path, root)
    assert [(r["test_id"], r["status"]) for r in rows][:1] == [("test_a.py::test_a", "passed")]


def test_test_rows_rootdir_differs_from_root(tmp_path):
    root = tmp_path / "repo" / "sub"
    write_files(root, {"tests/test_x.py": "class TestA:\n    def test_a(self):\n        pass\n"
                                          "    def test_a(self):\n        pass\n"})
    report = {"root": str(tmp_path / "repo"), "collectors": [], "tests": [{
        "nodeid": "sub/tests/test_x.py::TestA::test_a[x::y-1]", "outcome": "failed",
        "keywords": ["test_a[x::y-1]", "TestA", "flaky", "x::y-1", "test_x.py", "tests", "sub",
                     "repo", "pytestmark", "__wrapped__", ""],
        "setup": {"duration": 0.001, "outcome": "passed"},
        "call": {"duration": 0.002, "outcome": "failed",
                 "longrepr": "x\nE   boom\nE   ValueError: v"},
        "teardown": {"duration": 0.003, "outcome": "passed"}}]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    [row] = _test_rows(str(path), root)
    assert row == {
        "test_id": "sub/tests/test_x.py::TestA::test_a[x::y-1]", "rel_path": "tests/test_x.py",
        "qualname": "test_x.TestA.test_a#2",  # pytest runs the last def; pysource numbers it #2
        "test_goid": goid(REPO, "python", "tests/test_x.py", "method", "test_x.TestA.test_a#2"),
        "kind": "parametrized_case", "status": "failed", "duration_ms": pytest.approx(6.0),
        "markers": '["flaky"]', "parametrized": True, "flaky": True, "message": "ValueError: v"}


def test_helpers():
    assert coverage_data.context_test_id("t.py::test_a[x|y]|run") == "t.py::test_a[x|y]"
    assert coverage_data.context_test_id("t.py::test_a|setup") == "t.py::test_a"
    assert coverage_data.context_test_id("pkg.tests.test_a") == "pkg.tests.test_a"
    assert pytest_report.split_nodeid("a/t.py::C::t[p[1]::q]") == ("a/t.py", ["C", "t"], "p[1]::q")
    assert pytest_report.split_nodeid("a/t.py") == ("a/t.py", [], None)


def test_test_rows_doctest_items(tmp_path):
    write_files(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": "class C:\n    def f(self):\n"
                                                              "        pass\n"})
    report = {"root": str(tmp_path), "collectors": [], "tests": [
        {"nodeid": f"pkg/m.py::{name}", "outcome": "passed", "keywords": [],
         "call": {"duration": 0.0, "outcome": "passed"}}
        for name in ("pkg.m", "pkg.m.C", "pkg.m.C.f")]}
    (tmp_path / "r.json").write_text(json.dumps(report))
    rows = _test_rows(str(tmp_path / "r.json"), tmp_path)
    assert [(r["qualname"], r["test_goid"]) for r in rows] == [
        (q, goid(REPO, "python", "pkg/m.py", k, q))
        for q, k in (("pkg.m", "module"), ("pkg.m.C", "class"), ("pkg.m.C.f", "method"))]


def test_test_goid_is_a_join_to_core_goids_and_null_when_absent(tmp_path):
    """Without an MRO lookup an inherited test has no definition of its own under its node
    id: NULL, never the GOID of a definition that does not exist (tests_ingest looks it up
    along the class's MRO: test_function_coverage.py)."""
    root = tmp_path / "t"
    write_files(root, {"test_inherit.py": "class TestBase:\n    def test_a(self):\n        pass\n"
                                          "\n\nclass TestChild(TestBase):\n    pass\n"})
    run = testrun.run_tests(ToolRunner(), str(root), PYTHON, str(tmp_path / "w"), 120)
    goids = {r["test_id"]: r["test_goid"] for r in _test_rows(run.report_path, root)}
    assert goids == {
        "test_inherit.py::TestBase::test_a": goid(REPO, "python", "test_inherit.py", "method",
                                                  "test_inherit.TestBase.test_a"),
        "test_inherit.py::TestChild::test_a": None}
