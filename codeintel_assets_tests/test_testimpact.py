"""Selective test runs (tools/testimpact.py, tools/testmerge.py, the codeintel_select plugin):
after a change only the tests it can affect run, and the effective results equal a full run's
row for row. Real pytest + coverage runs of tiny temp Git repositories under our interpreter,
through ToolService.test_run as the two test steps call it; no Dagster run."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from codeintel_assets.defs.resources import ToolService
from codeintel_assets.extract.scan import content_hash
from codeintel_assets.tools import testcache, testimpact, testmerge
from codeintel_assets.tools.pytest_report import test_rows
from codeintel_assets_tests.conftest import git, make_git_repo, write_files

TOOLS = ToolService(enabled=["tests"], test_timeout_s=120)

SOURCES = {  # m1: A and B differ only in function bodies, C outside them too
    "m1A": "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return f(x) * 2\n",
    "m1B": "def f(x):\n    y = x\n    return y + 1\n\n\ndef g(x):\n    return x * 2\n",
    "m1C": "LIMIT = 3\n\n\ndef f(x):\n    return min(x, LIMIT)\n\n\ndef g(x):\n"
           "    return f(x) + LIMIT\n",
    "m2A": "from pkg.m1 import f\n\n\ndef h(x):\n    return f(x) - 1\n",
    "m2B": "from pkg.m1 import f\n\n\ndef h(x):\n    if x > 100:\n        return 0\n"
           "    return f(x) - 1\n",
}
TESTS = {
    "t1": "from pkg.m1 import f, g\n\n\ndef test_f():\n    assert f(1) == 2\n\n\n"
          "def test_g():\n    assert g(1) > 0\n",
    "t2": "from pkg.m2 import h\n\n\ndef test_h():\n    assert h(1) == 1\n\n\n"
          "def test_h_big():\n    assert h(1000) >= 0\n",
    "t3": "from pkg.m1 import g\n\n\ndef test_g_exact():\n    assert g(2) == 6\n",
    "t4": "import pytest\n\nfrom pkg import m2\n\n\n@pytest.mark.parametrize('x', [0, 5])\n"
          "def test_p(x):\n    assert m2.h(x) >= 0\n",
}
BASE = {"pkg/__init__.py": "", "pkg/m1.py": SOURCES["m1A"], "pkg/m2.py": SOURCES["m2A"],
        "tests/test_a.py": TESTS["t1"], "tests/test_b.py": TESTS["t2"]}
SOURCE_PATHS = ["pkg/m1.py", "pkg/m2.py", "pkg/m3.py"]
TEST_PATHS = ["tests/test_a.py", "tests/test_b.py", "tests/test_c.py"]


def hashes_of(root: Path) -> dict[str, str]:
    """core.file_state's Python rows of the tree: rel_path -> content_hash."""
    return {str(p.relative_to(root)): content_hash(p.read_bytes())
            for p in sorted(root.rglob("*.py")) if ".git" not in p.parts}


def step(root: Path, base: Path, forced: str = ""):
    """What coverage_ingest/tests_ingest do for one Dagster run: key, folder, planned run."""
    hashes = hashes_of(root)
    python = TOOLS.target_python(str(root))
    snapshot = content_hash(repr(sorted(hashes.items())).encode())
    workdir = testcache.run_folder(
        str(base), uuid.uuid4().hex,
        lambda: TOOLS.test_run_key(str(root), python, snapshot).digest, fresh=bool(forced))
    run = TOOLS.test_run(str(root), workdir, python, [""],
                         testimpact.Request(hashes, (), forced))
    testcache.prune(str(base), keep=os.path.basename(workdir))
    return run


def effective(run, root: Path) -> tuple[list[dict], list[dict]]:
    """The rows the two steps would write (durations left out), sorted."""
    lines = sorted(testmerge.read_lines(run.lines_path), key=lambda r: (r["rel_path"], r["line"]))
    tests = sorted(({k: v for k, v in r.items() if k != "duration_ms"}
                    for r in test_rows(run.report_path, str(root), {})),
                   key=lambda r: r["test_id"])
    return lines, tests


def commit(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "round")


def test_body_edit_runs_only_the_tests_that_ran_the_file(tmp_path):
    repo = make_git_repo(tmp_path / "r", {**BASE, "tests/test_c.py": TESTS["t3"]})
    first = step(repo, tmp_path / "runs")
    assert (first.test_selection, first.tests_executed, first.tests_collected) == ("full", 5, 5)
    assert first.selection_reason.startswith("no previous test run")
    write_files(repo, {"pkg/m2.py": SOURCES["m2B"]})  # only h's body: tests of h run
    commit(repo)
    second = step(repo, tmp_path / "runs")
    assert second.test_selection == "selected", second.selection_reason
    assert (second.tests_executed, second.tests_collected) == (2, 5)
    assert second.selection_reason == "1 Python file(s) changed: pkg/m2.py"
    assert second.healthy and not second.cached
    assert step(repo, tmp_path / "runs").cached  # the same tree: the same folder, no run
    # A new file no test imports: no test runs (pytest exits 5 after deselecting them all),
    # the run completed, and the new file has no rows, as in a full run (no coverage `source`:
    # coverage.py reports the files that ran).
    write_files(repo, {"pkg/m3.py": SOURCES["m1B"]})
    commit(repo)
    third = step(repo, tmp_path / "runs")
    assert (third.test_selection, third.tests_executed, third.status) == \
        ("selected", 0, "completed")
    lines, tests = effective(third, repo)
    assert (lines, tests) == effective(step(repo, tmp_path / "full"), repo)
    assert [r for r in lines if r["rel_path"] == "pkg/m3.py"] == []


def test_full_run_reasons(tmp_path):
    """testimpact.plan on the bases two runs would save: each cause of a full run, and a
    selective run when only bodies and test files changed."""
    def basis(files: dict[str, str], other=None, env="e") -> testimpact.Basis:
        write_files(tmp_path, files)
        hashes = {p: content_hash(t.encode()) for p, t in files.items()}
        return testimpact.basis(str(tmp_path), env, sorted((other or {"d.txt": "1"}).items()),
                                hashes, None, parse=hashes)

    before = basis(BASE)
    previous = testimpact.Previous(str(tmp_path / "prev"), before, "", healthy=True)

    def reason(now: testimpact.Basis, **kw) -> str:
        return testimpact.plan(previous, now, str(tmp_path), **kw).reason

    assert reason(basis({**BASE, "pkg/m1.py": SOURCES["m1B"]})) == \
        "1 Python file(s) changed: pkg/m1.py"
    assert reason(basis({**BASE, "pkg/m1.py": SOURCES["m1C"]})) == \
        "import-time code (outside function bodies) changed in pkg/m1.py"
    assert reason(basis(BASE, other={"d.txt": "2"})) == \
        "files that are not scanned Python files changed: d.txt"
    assert reason(basis(BASE, env="other")).startswith("the interpreter, its installed")
    assert reason(basis({**BASE, "tests/conftest.py": ""})) == \
        "a conftest.py changed or an __init__.py came or went: tests/conftest.py"
    assert reason(basis({**BASE, "tests/__init__.py": ""})).endswith("tests/__init__.py")
    assert reason(basis(BASE), forced="--full asked to run every test") == \
        "--full asked to run every test"
    assert reason(basis(BASE), max_selective=0) == "0 selective runs since the last full run"
    unhealthy = testimpact.Previous(previous.folder, before, "", healthy=False)
    assert testimpact.plan(unhealthy, basis(BASE), str(tmp_path)).full
    assert testimpact.plan(None, basis(BASE), str(tmp_path)).reason.startswith("no previous")
    # A file the previous run never imported has no skeleton: its change selects, no full run.
    unimported = testimpact.Previous(previous.folder, testimpact.Basis(
        "e", before.other_files, before.python_files, {}), "", healthy=True)
    assert not testimpact.plan(unimported, basis({**BASE, "pkg/m1.py": SOURCES["m1C"]}),
                               str(tmp_path)).full


def test_once_per_process_lines_are_the_only_difference(tmp_path):
    """A module imported inside tests runs its module-level lines once, in the context of the
    first test that imports it. After a change that selects only the second importer, its
    context is added to those lines (a full run names the first importer only): the effective
    rows differ from a full run's exactly there (README: what selection can miss)."""
    lazy = "VALUE = 2\n\n\ndef double(x):\n    return x * VALUE\n"
    first = "def test_1():\n    from pkg.lazy import double\n    assert double(1) == 2\n"
    second = "def test_2():\n    from pkg.lazy import double\n    assert double(2) == 4\n"
    repo = make_git_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/lazy.py": lazy,
                                          "tests/test_1.py": first, "tests/test_2.py": second})
    step(repo, tmp_path / "runs")
    write_files(repo, {"tests/test_2.py": second.replace("== 4", "== 2 * 2")})
    commit(repo)
    selected = step(repo, tmp_path / "runs")
    assert (selected.test_selection, selected.tests_executed) == ("selected", 1)
    (lines, tests), (full_lines, full_tests) = effective(selected, repo), \
        effective(step(repo, tmp_path / "full"), repo)
    assert tests == full_tests
    differ = [(a["rel_path"], a["line"], a["contexts"], b["contexts"])
              for a, b in zip(lines, full_lines, strict=True) if a != b]
    both = '["tests/test_1.py::test_1", "tests/test_2.py::test_2"]'
    assert differ == [("pkg/lazy.py", line, both, '["tests/test_1.py::test_1"]')
                      for line in (1, 4)]  # `VALUE = 2` and `def double`: run at import


def test_skeleton_ignores_bodies_and_layout():
    a = testimpact.skeleton(SOURCES["m1A"].encode())
    assert a == testimpact.skeleton(SOURCES["m1B"].encode())
    assert a == testimpact.skeleton(("# note\n" + SOURCES["m1A"]).encode())
    assert a != testimpact.skeleton(SOURCES["m1C"].encode())
    assert testimpact.skeleton(b"def (") != testimpact.skeleton(b"def ((")


# ---- the property: selective updates equal a full run, row for row ------------------------

source_op = st.tuples(st.just("write"), st.sampled_from(SOURCE_PATHS),
                      st.sampled_from(sorted(SOURCES)))
test_op = st.tuples(st.just("write"), st.sampled_from(TEST_PATHS), st.sampled_from(sorted(TESTS)))
move_op = st.one_of(
    st.tuples(st.sampled_from(["delete", "rename"]), st.sampled_from(SOURCE_PATHS),
              st.sampled_from(SOURCE_PATHS)),
    st.tuples(st.sampled_from(["delete", "rename"]), st.sampled_from(TEST_PATHS),
              st.sampled_from(TEST_PATHS)))
rounds = st.lists(st.lists(st.one_of(source_op, test_op, move_op), min_size=1, max_size=3),
                  min_size=1, max_size=3)


def _apply(root: Path, op: tuple) -> None:
    kind, path, arg = op
    target = root / path
    if kind == "write":
        write_files(root, {path: SOURCES.get(arg) or TESTS[arg]})
    elif target.exists() and kind == "delete":
        target.unlink()
    elif target.exists() and kind == "rename":
        target.replace(root / arg)


@settings(max_examples=int(os.environ.get("CODEINTEL_HYPOTHESIS_EXAMPLES", "3")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rounds=rounds)
def test_selective_runs_equal_a_full_run(rounds):
    """Random edits, adds, deletes and renames of source and test files, a test run after each
    round: the effective coverage rows and test rows equal a full run's on the final tree
    (durations aside). Module imports happen at collection here, so no once-per-process line
    is attributed to a test (README: what selection can miss)."""
    tmp = Path(tempfile.mkdtemp(prefix="codeintel-hyp-impact-"))
    try:
        repo = make_git_repo(tmp / "r", BASE)
        step(repo, tmp / "runs")
        for ops in rounds:
            for op in ops:
                _apply(repo, op)
            commit(repo)
            run = step(repo, tmp / "runs")
            event("reused (same tree)" if run.cached else
                  f"{run.test_selection}: {run.selection_reason.split(':')[0]}")
        full = step(repo, tmp / "full")
        assert (run.status, run.problem) == (full.status, full.problem)
        assert effective(run, repo) == effective(full, repo)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_the_steps_say_how_they_selected_and_write_a_full_runs_rows(tmp_path):
    """Through Dagster: the metadata says the selection, and the warehouse's two tables after a
    selective run equal those a `--full` run writes (test_goid joined anew included)."""
    from codeintel_assets_tests.conftest import rows
    from codeintel_assets_tests.test_testrun_trust import test_steps

    repo = make_git_repo(tmp_path / "r", {**BASE, "tests/test_c.py": TESTS["t3"]})
    db = repo / ".codeintel" / "codeintel.duckdb"
    meta, _, _ = test_steps(repo)
    assert meta["analytics/test_catalog"]["test_selection"] == "full"
    write_files(repo, {"pkg/m2.py": SOURCES["m2B"]})
    commit(repo)
    meta, checks, _ = test_steps(repo)
    for name in ("analytics/coverage_lines", "analytics/test_catalog"):
        got = meta[name]
        assert (got["test_selection"], got["tests_executed"], got["tests_collected"]) == \
            ("selected", 2, 5), name
        assert got["selection_reason"] == "1 Python file(s) changed: pkg/m2.py"
        assert checks[name][0]
    query = ("SELECT * EXCLUDE (duration_ms) FROM analytics.test_catalog ORDER BY test_id",
             "SELECT * FROM analytics.coverage_lines ORDER BY rel_path, line")
    selected = [rows(db, q) for q in query]
    assert rows(db, "SELECT count(*) FROM analytics.test_catalog WHERE test_goid IS NULL") == \
        [(0,)]  # the kept rows' GOIDs are joined anew, as a full run's
    meta, _, _ = test_steps(repo, full_rebuild=True)
    assert meta["analytics/test_catalog"]["test_selection"] == "full"
    assert meta["analytics/test_catalog"]["selection_reason"] == "--full asked to run every test"
    assert [rows(db, q) for q in query] == selected
