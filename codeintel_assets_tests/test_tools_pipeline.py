"""The tool-backed steps end to end: real pyright, pyrefly, ruff, pytest+coverage and
scip-python through ToolService, in an in-process Dagster run on a temp Git repository."""

from __future__ import annotations

import json
import os

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets_tests.conftest import make_git_repo

FILES = {
    "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["src"]\nmarkers = ["slow"]\n',
    "src/calc/__init__.py": "",
    "src/calc/ops.py": '''import os
import functools


def logged(fn):
    @functools.wraps(fn)
    def inner(*args):
        return fn(*args)
    return inner


@logged
def add(a: int, b: int) -> int:
    return a + b


def half(x: int) -> int:
    total: int = "not an int"
    return x // 2
''',
    "tests/test_ops.py": '''import pytest

from calc.ops import add, half


def test_add():
    assert add(1, 2) == 3


@pytest.mark.slow
def test_half_is_wrong():
    assert half(4) == 3
''',
}


@pytest.fixture(scope="module")
def tool_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tools")
    repo = make_git_repo(tmp / "calc", FILES, remote="git@github.com:acme/calc.git")
    db = tmp / "tools.duckdb"
    result = run.materialize("*", target=str(repo), db=str(db))
    return repo, db, result


def q(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_all_steps_and_checks_pass(tool_run):
    _, _, result = tool_run
    assert result.success
    checks = {e.event_specific_data.asset_check_key.name: e.event_specific_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert all(checks.values()), checks
    assert checks["goids_have_scip_symbols"]  # 100% of class/function GOIDs have a symbol


def test_diagnostics_of_the_three_tools(tool_run):
    _, db, _ = tool_run
    rows = set(q(db, "SELECT tool, rel_path, line, col, code, severity FROM analytics.diagnostics"))
    assert ("pyright", "src/calc/ops.py", 18, 17, "reportAssignmentType", "error") in rows
    assert ("pyrefly", "src/calc/ops.py", 18, 17, "bad-assignment", "error") in rows
    assert ("ruff", "src/calc/ops.py", 1, 7, "F401", "error") in rows
    # Per-file counts equal the detail rows.
    mismatches = q(db, """
        SELECT s.rel_path FROM analytics.static_diagnostics s
        LEFT JOIN (SELECT rel_path,
                          count(*) FILTER (WHERE tool = 'pyright' AND severity = 'error') p,
                          count(*) FILTER (WHERE tool = 'pyrefly' AND severity = 'error') y,
                          count(*) FILTER (WHERE tool = 'ruff') r
                   FROM analytics.diagnostics GROUP BY rel_path) d USING (rel_path)
        WHERE s.pyright_errors <> coalesce(d.p, 0) OR s.pyrefly_errors <> coalesce(d.y, 0)
           OR s.ruff_errors <> coalesce(d.r, 0)""")
    assert mismatches == []
    scanned = {r[0] for r in q(db, "SELECT rel_path FROM core.file_state WHERE language = 'python'")}
    assert {r[0] for r in q(db, "SELECT rel_path FROM analytics.static_diagnostics")} == scanned
    (typed,) = q(db, "SELECT params_total, params_annotated, defs_total, untyped_defs, "
                     "type_error_count, overlay_needed FROM analytics.typedness "
                     "WHERE rel_path = 'src/calc/ops.py'")
    assert typed[:4] == (5, 3, 4, 2) and typed[4] >= 2 and typed[5] is True


def test_one_test_run_feeds_coverage_and_catalog(tool_run):
    repo, db, result = tool_run
    tests = {r[0]: r[1:] for r in q(db, "SELECT test_id, status, kind, qualname, markers "
                                        "FROM analytics.test_catalog")}
    assert tests == {
        "tests/test_ops.py::test_add": ("passed", "function", "test_ops.test_add", "[]"),
        "tests/test_ops.py::test_half_is_wrong": ("failed", "function",
                                                  "test_ops.test_half_is_wrong", '["slow"]'),
    }
    # GOIDs of the tests are the ones core.goids gives the test functions.
    assert q(db, "SELECT count(*) FROM analytics.test_catalog t JOIN core.goids g "
                 "ON g.goid = t.test_goid AND g.qualname = t.qualname") == [(2,)]
    lines = {r[0]: json.loads(r[1]) for r in q(db, "SELECT line, contexts FROM "
             "analytics.coverage_lines WHERE rel_path = 'src/calc/ops.py' AND is_covered")}
    assert lines[14] == ["tests/test_ops.py::test_add"]            # return a + b
    assert lines[19] == ["tests/test_ops.py::test_half_is_wrong"]  # return x // 2
    contexts = {c for cs in lines.values() for c in cs}
    assert contexts <= set(tests)
    # The suite ran once for both steps.
    runs = list((db.parent / "testruns").rglob("run.json"))
    assert len(runs) == 1
    assert not (repo / ".coverage").exists() and not (repo / ".pytest_cache").exists()


def test_scip_tables_and_crosswalk(tool_run):
    _, db, result = tool_run
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    index = meta["index/scip"]
    assert index["size_bytes"].value > 0 and index["document_count"].value == 3
    (add,) = q(db, "SELECT def_line, def_col, kind FROM core.scip_symbols "
                   "WHERE symbol LIKE '%/add().'")
    assert add[:2] == (13, 4)  # the name token of the decorated def (line 12: @logged)
    statuses = dict(q(db, "SELECT g.qualname, x.match_status FROM core.goid_crosswalk x "
                          "JOIN core.goids g USING (repo, goid)"))
    assert statuses["calc.ops.add"] == "exact"
    assert set(statuses.values()) == {"exact"}


def test_missing_tool_fails_only_its_step(tmp_path):
    repo = make_git_repo(tmp_path / "calc", FILES)
    db = tmp_path / "m.duckdb"
    result = run.definitions().resolve_implicit_global_asset_job_def().execute_in_process(
        run_config={"resources": {
            "target": {"config": {"root": str(repo)}},
            "warehouse": {"config": {"db_path": str(db)}},
            "tools": {"config": {"pyright_path": "/nonexistent/pyright",
                                 "enabled": ["pyright", "pyrefly", "ruff"]}}}},
        raise_on_error=False)
    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["typing_ingest"]
    message = failures[0].step_failure_data.error.cause.message
    assert "pyright" in message and "not found" in message
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"core/ast_nodes", "core/goids", "analytics/test_catalog", "core/scip_symbols"} <= \
        materialized
    assert "analytics/diagnostics" not in materialized
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "diagnostics" not in tables  # nothing half written
        assert con.execute("SELECT count(*) FROM analytics.test_catalog").fetchone() == (0,)
    skipped = {e.asset_key.to_user_string(): e.materialization.metadata.get("skipped")
               for e in result.get_asset_materialization_events()}
    assert "disabled" in skipped["analytics/test_catalog"].value


def test_old_test_runs_are_pruned(tmp_path):
    from codeintel_assets.defs.tools import _prune_test_runs

    for age, name in enumerate(["current", "previous", "older", "oldest"]):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text("{}")
        os.utime(tmp_path / name, (1_000_000 - age * 10, 1_000_000 - age * 10))
    _prune_test_runs(str(tmp_path), keep="current")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "previous"]
