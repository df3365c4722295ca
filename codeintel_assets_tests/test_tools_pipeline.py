"""The tool-backed steps end to end: real pyright, pyrefly, ruff, pytest+coverage and
scip-python through ToolService, in an in-process Dagster run on a temp Git repository."""

from __future__ import annotations

import json
import os

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets_tests.conftest import SHAPES, git, make_git_repo

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


@pytest.fixture(scope="module", params=SHAPES, ids=str)
def tool_run(tmp_path_factory, request):
    """Every asset with every tool, in each shape (single; fleet: one partition)."""
    shape = request.param
    tmp = tmp_path_factory.mktemp("tools")
    repo = make_git_repo(tmp / "calc", FILES, remote="git@github.com:acme/calc.git")
    result = shape.materialize("*", repo, tmp / "tools.duckdb")
    return repo, shape.db_of(repo, tmp / "tools.duckdb"), result


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
    # Versions are the installed pins (tools/registry.py), never literals in the code.
    from importlib.metadata import version

    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    assert meta["analytics/diagnostics"]["tool_versions"].value == {
        t: version(t) for t in ("pyright", "pyrefly", "ruff")}
    assert meta["analytics/test_catalog"]["tool_versions"].value["pytest-cov"] == \
        version("pytest-cov")


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
                          count(*) FILTER (WHERE tool = 'ruff' AND category = 'lint') r,
                          count(*) FILTER (WHERE tool = 'ruff' AND category = 'style') st
                   FROM analytics.diagnostics GROUP BY rel_path) d USING (rel_path)
        WHERE s.pyright_errors <> coalesce(d.p, 0) OR s.pyrefly_errors <> coalesce(d.y, 0)
           OR s.ruff_errors <> coalesce(d.r, 0) OR s.style_findings <> coalesce(d.st, 0)""")
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
    # Per function: `@logged` and the def lines are not add's or half's (they run at import);
    # the failing test's edge carries its status.
    functions = {r[0]: r[1:] for r in q(db, "SELECT qualname, executable_lines, covered_lines, "
                                            "test_count, untested_reason "
                                            "FROM analytics.coverage_functions")}
    assert functions["calc.ops.add"] == (1, 1, 1, None)
    assert functions["calc.ops.half"] == (2, 2, 1, None)
    assert functions["calc.ops.logged"] == (3, 3, 0, None)  # ran at import only
    assert q(db, "SELECT e.test_id, e.last_status, e.coverage_ratio FROM "
                 "analytics.test_coverage_edges e JOIN core.goids g USING (repo, goid) "
                 "WHERE g.qualname = 'calc.ops.half'") == [
        ("tests/test_ops.py::test_half_is_wrong", "failed", 1.0)]
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
    assert "--skip-tool tests" in skipped["analytics/test_catalog"].value


def test_old_test_runs_are_pruned(tmp_path):
    from codeintel_assets.tools.testcache import PINS, prune

    for age, name in enumerate(["current", "previous", "older", "oldest", PINS]):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text("{}")
        os.utime(tmp_path / name, (1_000_000 - age * 10, 1_000_000 - age * 10))
    prune(str(tmp_path), keep="current")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["current", "previous", PINS])


# ---- the test run's cache key and who may start the suite ------------------------------------

DATA_FILES = {
    "pkg/__init__.py": "",
    "pkg/read.py": "from pathlib import Path\n\n\ndef data(name):\n"
                   "    return (Path(__file__).parents[1] / 'tests' / name).read_text().strip()\n",
    "tests/conftest.py": "",
    "tests/data.txt": "ok\n",
    "tests/test_data.py": "from pkg.read import data\n\n\ndef test_data_is_ok():\n"
                          "    assert data('data.txt') == 'ok'\n",
}
TEST_TABLES = ("analytics/coverage_lines", "analytics/test_catalog")


def materialize_test_steps(repo, tags=None, tests_on_push=False):
    """coverage_ingest and tests_ingest with what they read, in-process, with run `tags`; the
    warehouse at its default place inside the target (<repo>/.codeintel)."""
    import dagster as dg

    defs = run.definitions()
    keys = dg.AssetSelection.assets(*(dg.AssetKey(t.split("/")) for t in TEST_TABLES)) \
        .upstream().resolve(defs.resolve_asset_graph())
    config = run.run_config(str(repo))
    config["resources"]["target"]["config"]["tests_on_push"] = tests_on_push
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        run_config=config, instance=instance, asset_selection=list(keys), tags=tags or {})
    assert result.success
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    logs = [e.user_message for e in instance.all_logs(result.run_id)]
    return meta, logs


def test_cache_key_and_automation_policy(tmp_path, monkeypatch):
    monkeypatch.delenv("CODEINTEL_DB", raising=False)
    repo = make_git_repo(tmp_path / "data", DATA_FILES)
    db = repo / ".codeintel" / "codeintel.duckdb"
    runs = repo / ".codeintel" / "testruns"

    def status():
        return q(db, "SELECT status FROM analytics.test_catalog")

    def suite_runs(meta) -> int:
        """Steps of the run that ran the suite (the other reused their run, or both did)."""
        return sum(meta[t]["test_run_reused"].value is False for t in TEST_TABLES)

    # A run a person starts runs the suite.
    meta, _ = materialize_test_steps(repo)
    assert suite_runs(meta) == 1
    assert status() == [("passed",)]
    # The data file is not scanned: only the work-tree fingerprint sees it.
    assert q(db, "SELECT count(*) FROM core.file_state WHERE rel_path = 'tests/data.txt'") \
        == [(0,)]

    # A sensor's run does not, for a repository that did not opt in: both tables are
    # materialized with the rows they held (of the commit the suite ran on), their metadata
    # and a log line say why, and no new test run is made.
    before = sorted(runs.rglob("run.json"))
    kept = q(db, "SELECT * FROM analytics.coverage_lines ORDER BY ALL")
    meta, logs = materialize_test_steps(repo, {"dagster/sensor_name": "git_head_sensor"})
    assert set(TEST_TABLES) <= set(meta)
    for t in TEST_TABLES:
        assert meta[t]["status"].value == "not_run"
        assert meta[t]["rows_kept"].value > 0
        assert meta[t]["kept_rows_commits"].value == [git(repo, "rev-parse", "HEAD")]
    assert q(db, "SELECT * FROM analytics.coverage_lines ORDER BY ALL") == kept
    assert status() == [("passed",)]
    assert "core/file_state" in meta  # the rest of the run did its work
    assert any("suite was not run" in m and "sensor git_head_sensor" in m
               and "tests_on_push" in m for m in logs), logs
    assert sorted(runs.rglob("run.json")) == before

    # Opted in, it does; the tree is unchanged, so the previous run is reused.
    meta, _ = materialize_test_steps(repo, {"dagster/sensor_name": "git_head_sensor"},
                                     tests_on_push=True)
    assert suite_runs(meta) == 0
    key = meta["analytics/test_catalog"]["test_run_key"].value

    # Editing the data file a test reads (no .py file changes) runs the suite again.
    (repo / "tests/data.txt").write_text("changed\n")
    meta, _ = materialize_test_steps(repo)
    assert suite_runs(meta) == 1
    assert meta["analytics/test_catalog"]["test_run_key"].value != key
    assert status() == [("failed",)]
    # Both steps of that run shared one suite run (one key, one folder).
    assert meta["analytics/coverage_lines"]["test_run_key"].value == \
        meta["analytics/test_catalog"]["test_run_key"].value

    # So does editing conftest.py.
    key = meta["analytics/test_catalog"]["test_run_key"].value
    (repo / "tests/conftest.py").write_text("import os\n")
    meta, _ = materialize_test_steps(repo)
    assert meta["analytics/test_catalog"]["test_run_key"].value != key
    assert suite_runs(meta) == 1


@pytest.mark.parametrize("run_tests", [False, True])
def test_fleet_opt_in_is_the_watch_lists_run_tests(tmp_path, run_tests):
    """In the fleet shape one ToolService serves every repository: the opt-in is the
    repository's own (its watch-list entry's run_tests, through TargetRepo)."""
    import dagster as dg

    repo = make_git_repo(tmp_path / "data", DATA_FILES)
    selection = dg.AssetSelection.assets(*(dg.AssetKey(t.split("/")) for t in TEST_TABLES)) \
        .upstream()
    result = run.materialize(selection, target=str(repo), fleet=str(tmp_path / "fleet"),
                             run_tests=run_tests, tags={"dagster/sensor_name": "fleet_sensor"})
    assert result.success
    # Both tables are materialized either way (a first build that may not run the suite
    # writes them empty); only an opted-in repository's suite ran.
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    assert set(TEST_TABLES) <= set(meta) and "core/file_state" in meta
    for t in TEST_TABLES:
        assert (meta[t]["status"].value == "not_run") is not run_tests
        assert (meta[t]["dagster/row_count"].value > 0) is run_tests
    completed = [c.passed for c in result.get_asset_check_evaluations()
                 if c.check_name == "test_run_completed"]
    assert completed == [run_tests, run_tests]
