"""Real in-process Dagster runs of the whole graph on a temp Git repository."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.definitions import defs
from codeintel_assets.defs.io_manager import DuckDBIOManager
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage.catalog import TABLES
from codeintel_assets.storage.views import VIEWS
from codeintel_assets_tests.conftest import git, make_git_repo, write_files


def rows(db, sql, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture
def materialized(sample_repo, tmp_path, shape):
    db = tmp_path / "ci.duckdb"
    # The tools (pyright, tests, scip...) have their own end-to-end test: skip them here.
    result = shape.materialize("*", sample_repo, db, tools=[])
    assert result.success
    return sample_repo, shape.db_of(sample_repo, db), result


# Empty without the tools (typedness and static_diagnostics still have a row per file).
TOOL_TABLES = {"analytics.diagnostics", "analytics.coverage_lines", "analytics.test_catalog",
               "core.scip_symbols", "core.scip_occurrences", "analytics.tool_failures",
               "graph.symbol_use_edges", "analytics.test_coverage_edges"}


def test_every_table_written_and_every_check_passes(materialized):
    repo, db, result = materialized
    checks = [e.event_specific_data for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    # Primary keys, two cross-table checks, the tool steps' `<tool>_completed` checks
    # (pyright, pyrefly, ruff, scip-python; the test run on two tables), which pass for a
    # disabled tool, the call edges' two, symbol uses' GOIDs, the two metrics tables' rows and
    # the function layer's one row per function GOID (function_metrics, coverage_functions,
    # function_history, goid_risk_factors), git_completed of repo_scan, hotspots and
    # function_history, and one row-count check per view.
    assert len(checks) == len(TABLES) + 2 + 6 + 2 + 3 + 4 + 3 + len(VIEWS)
    failed = {c.asset_check_key.name for c in checks if not c.passed}
    assert failed == {"goids_have_scip_symbols"}  # no SCIP index without the tools
    commit = git(repo, "rev-parse", "HEAD")
    for name in TABLES:
        count = rows(db, f"SELECT count(*) FROM {name} WHERE repo = 'acme/widgets'")[0][0]
        assert (count == 0) == (name in TOOL_TABLES), name
        if count:
            assert rows(db, f"SELECT DISTINCT \"commit\" FROM {name}") == [(commit,)], name
    # Typedness comes from core.ast_nodes; without the tools the error counts are 0.
    assert rows(db, "SELECT params_total, params_annotated, returns_annotated, defs_total, "
                    "untyped_defs, type_error_count FROM analytics.typedness "
                    "WHERE rel_path = 'src/widgets/core.py'") == [(7, 3, 4, 9, 5, 0)]
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    assert meta["analytics/test_catalog"]["skipped"].value.startswith("tests skipped")


def test_bad_files_recorded_and_skipped(materialized):
    _, db, _ = materialized
    status = dict(rows(db, "SELECT rel_path, parse_status FROM core.file_state"))
    assert status["broken.py"] == "syntax_error"
    assert status["latin1.py"] == "decode_error"
    assert status["nul.py"] == "binary"
    parsed = {r[0] for r in rows(db, "SELECT DISTINCT rel_path FROM core.ast_nodes")}
    assert parsed == {p for p, s in status.items() if s == "ok" and p.endswith(".py")}
    assert {r[0] for r in rows(db, "SELECT DISTINCT rel_path FROM core.cst_nodes")} == parsed


def test_repo_map_modules_and_crosswalk_of_tables(materialized):
    repo, db, _ = materialized
    (rm,) = rows(db, "SELECT repo, branch, dirty, repo_root, module_count, file_count, "
                     "files_added FROM core.repo_map")
    assert rm == ("acme/widgets", "main", False, str(repo), 9, 11, 11)
    mods = dict(rows(db, "SELECT module, rel_path FROM core.modules"))
    assert mods["widgets.core"] == "src/widgets/core.py" and mods["test_core"] == "tests/test_core.py"
    (owners,) = rows(db, "SELECT owners FROM core.modules WHERE module = 'widgets.util'")[0]
    assert json.loads(owners) == ["@acme/utils"]
    # Every FunctionDef/ClassDef in the ast has a GOID with the same name position in the CST.
    unmatched = rows(db, """
        SELECT g.qualname FROM core.goids g
        LEFT JOIN core.cst_nodes c ON c.rel_path = g.rel_path AND c.kind IN ('ClassDef', 'FunctionDef')
             AND c.start_line = (SELECT lineno FROM core.ast_nodes a WHERE a.rel_path = g.rel_path
                                 AND a.qualname = g.qualname)
        WHERE g.kind <> 'module' AND c.node_id IS NULL""")
    assert unmatched == []
    secret = rows(db, "SELECT value_preview FROM analytics.config_values "
                      "WHERE key = 'tool.widgets.api_token'")
    assert secret == [("***",)]


def test_rerun_is_idempotent_and_subset_writes_only_selection(materialized, shape, tmp_path):
    repo, db, _ = materialized
    before = rows(db, "SELECT count(*) FROM core.ast_nodes")
    write_files(repo, {"src/widgets/extra.py": "def more():\n    return 1\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "extra")
    result = shape.materialize("core/repo_map", repo, tmp_path / "ci.duckdb", tools=[])
    assert result.success
    materialized_keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized_keys == {"core/repo_map"}
    (changes,) = rows(db, "SELECT files_added, files_changed, file_count FROM core.repo_map")
    assert changes == (1, 0, 12)
    # core.file_state was not rewritten (so the next scan still sees the file as added).
    assert rows(db, "SELECT count(*) FROM core.file_state")[0][0] == 11
    assert rows(db, "SELECT count(*) FROM core.ast_nodes") == before


def test_two_repositories(materialized, tmp_path, shape):
    """Single shape: two repositories share one database, told apart by `repo`. Fleet: each
    has its own partition and file, and the catalog shows both, told apart by `partition`."""
    repo, db, _ = materialized
    other = tmp_path / "other"
    write_files(other, {"lib.py": "def f():\n    pass\n"})  # not a Git checkout
    assert shape.materialize("*", other, tmp_path / "ci.duckdb", tools=[]).success
    if shape.name == "fleet":
        other_db = shape.db_of(other, tmp_path / "ci.duckdb")
        assert other_db != db and rows(db, "SELECT DISTINCT repo FROM core.goids") == [
            ("acme/widgets",)]
        from codeintel_assets.storage.fleet import partition_key

        both = run.query("SELECT partition, repo, count(*) AS n FROM core.goids GROUP BY ALL "
                         "ORDER BY repo", fleet=shape.home(tmp_path / "ci.duckdb"))
        assert both.to_pylist() == [
            {"partition": partition_key(repo), "repo": "acme/widgets",
             "n": rows(db, "SELECT count(*) FROM core.goids")[0][0]},
            {"partition": partition_key(other), "repo": "other", "n": 2}]
        db = other_db
        assert rows(db, "SELECT repo FROM core.repo_map") == [("other",)]
    else:
        assert rows(db, "SELECT repo, \"commit\" FROM core.repo_map ORDER BY repo") == [
            ("acme/widgets", rows(db, "SELECT \"commit\" FROM core.repo_map WHERE repo = "
                                  "'acme/widgets'")[0][0]),
            ("other", ""),
        ]
    assert rows(db, "SELECT qualname FROM core.goids WHERE repo = 'other' ORDER BY 1") == \
        [("lib",), ("lib.f",)]


def test_broken_tags_file_does_not_lose_rows(sample_repo, tmp_path, shape):
    write_files(sample_repo, {"tags_index.yaml": "tags: [unclosed\n"})
    result = shape.materialize("core/file_state,analytics/tags_index,core/modules",
                               sample_repo, tmp_path / "t.duckdb")
    assert result.success
    db = shape.db_of(sample_repo, tmp_path / "t.duckdb")
    assert rows(db, "SELECT count(*) FROM analytics.tags_index")[0][0] == 0
    assert rows(db, "SELECT count(*) FROM core.file_state")[0][0] == 12
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert "not valid YAML" in meta["tags_error"].value


def test_downstream_asset_loads_a_table_handle(materialized):
    repo, db, _ = materialized

    @dg.asset(key=["demo", "function_count"], ins={"goids": dg.AssetIn(key=["core", "goids"])},
              io_manager_key="mem")
    def function_count(goids) -> int:
        return goids.arrow(["kind"], equal={"kind": "function"}).num_rows

    target = TargetRepo(root=str(repo))
    warehouse = Warehouse(target=target, db_path=str(db))
    result = dg.materialize(
        [function_count, dg.AssetSpec(["core", "goids"])], selection=[function_count],
        resources={"io_manager": DuckDBIOManager(warehouse=warehouse),
                   "mem": dg.InMemoryIOManager()},
    )
    assert result.asset_value(["demo", "function_count"]) == \
        rows(db, "SELECT count(*) FROM core.goids WHERE kind = 'function'")[0][0] == 6


def test_steps_mirror_the_step_graph():
    steps = {s["step"]: s for s in run.steps()}
    assert steps["repo_scan"]["requires"] == []
    # One parse per file: the ast tables come from the scan's parse.
    assert {"core.file_state", "core.modules", "core.repo_map", "analytics.tags_index",
            "core.ast_nodes", "core.docstrings"} <= set(steps["repo_scan"]["tables"])
    assert "ast_extract" not in steps
    assert steps["cst_extract"]["requires"] == ["repo_scan"]
    assert steps["cst_extract"]["reads"] == ["core.file_state"]
    assert steps["config_ingest"]["requires"] == ["repo_scan"]
    assert steps["goids"]["requires"] == ["repo_scan"]
    assert steps["goids"]["reads"] == ["core.ast_nodes", "core.file_state"]


def test_step_without_its_upstream_fails_clearly(sample_repo, tmp_path, shape):
    result = shape.materialize("core/ast_nodes", sample_repo, tmp_path / "fresh.duckdb",
                               raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "core.file_state has not been materialized in" in \
        failure.step_failure_data.error.cause.message


def test_primary_key_check_fails_on_a_duplicate_key(materialized):
    """The checks can fail: duplicate one core.modules row behind the gateway's back."""
    repo, db, _ = materialized
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO core.modules SELECT * FROM core.modules LIMIT 1")
        con.execute("DELETE FROM core.goids WHERE qualname = 'widgets.core.spin'")
    target = TargetRepo(root=str(repo))
    warehouse = Warehouse(target=target, db_path=str(db))
    from codeintel_assets.defs.checks import every_definition_has_one_goid, primary_key_checks
    from codeintel_assets.storage.catalog import table

    # One check step for the tables of repo_scan: only the duplicated table fails.
    result = dg.materialize([primary_key_checks("repo_scan", [table("core.modules"),
                                                              table("core.file_state")])],
                            resources={"target": target, "warehouse": warehouse},
                            selection=dg.AssetSelection.all_asset_checks())
    found = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert not found["core/modules"].passed
    assert found["core/modules"].metadata["duplicate_keys"].value == 1
    assert found["core/file_state"].passed
    result = every_definition_has_one_goid(target=target, warehouse=warehouse)
    assert not result.passed and result.metadata["without_goid"].value == 1


def test_a_lone_surrogate_loses_only_its_literal(tmp_path, shape):
    """`'\\ud800'` cannot be stored as UTF-8: that literal's row is dropped (it is the key),
    every other literal of the file is kept, and the metadata counts the loss. A call whose
    argument is such a literal (click's tests: `pathlib.Path("\\udcff")`) keeps its call-site
    row: its JSON columns hold U+FFFD instead (DuckDB's JSON refuses the escape)."""
    source = "A = 'first literal'\nB = 'lone \\ud800 surrogate'\nC = 'second literal'\n"
    calls = "import pathlib\n\ndef f():\n    return pathlib.Path('\\udcff')\n"
    repo = make_git_repo(tmp_path / "s", {"m.py": source, "n.py": calls})
    result = shape.materialize("core/file_state,core/string_literals,core/call_sites", repo,
                               tmp_path / "s.duckdb", tools=[])
    assert result.success
    db = shape.db_of(repo, tmp_path / "s.duckdb")
    assert rows(db, "SELECT literal FROM core.string_literals ORDER BY literal") == [
        ("first literal",), ("second literal",)]
    assert rows(db, "SELECT caller_qualname, callee_name FROM core.call_sites "
                    "WHERE rel_path = 'n.py'") == [("n.f", "pathlib.Path")]
    [meta] = [e.materialization.metadata for e in result.get_asset_materialization_events()
              if e.asset_key.to_user_string() == "core/string_literals"]
    assert meta["rows_dropped"].value == 1 and meta["failed_files"].value == 0
    assert json.loads(json.dumps(meta["dropped"].value))[0]["column"] == "literal"


def test_config_files_follow_the_scans_limit_and_verdict(tmp_path):
    """One limit, one status: a config file the scan found too large (by TargetRepo's
    max_file_bytes, far below any limit of config extraction's own) or binary is one row with
    the scan's status and message, not parsed."""
    repo = make_git_repo(tmp_path / "r", {"app.json": json.dumps({"k": "v" * 300}),
                                          "small.toml": "a = 1\n", "data.yaml": b"a: 1\0\n"})
    db = tmp_path / "w.duckdb"
    config = run.run_config(target=str(repo), db=str(db))
    config["resources"]["target"]["config"]["max_file_bytes"] = 100
    job = defs().resolve_implicit_global_asset_job_def()
    # config_values matches references against core.string_literals (ast_extract): selected too.
    assert job.execute_in_process(run_config=config, asset_selection=[
        dg.AssetKey(["core", "file_state"]), dg.AssetKey(["core", "string_literals"]),
        dg.AssetKey(["analytics", "config_values"])]).success
    scan = {r[0]: r[1:] for r in rows(db, "SELECT rel_path, parse_status, parse_error "
                                          "FROM core.file_state")}
    assert scan["app.json"][0] == "too_large" and scan["data.yaml"][0] == "binary"
    values = rows(db, "SELECT config_path, key, value_type, value_preview "
                      "FROM analytics.config_values ORDER BY config_path, key")
    assert values == [("app.json", "", *scan["app.json"]), ("data.yaml", "", *scan["data.yaml"]),
                      ("small.toml", "a", "int", "1")]


def test_a_step_reading_an_undeclared_table_fails(sample_repo, tmp_path):
    """Deps are declared once: a step whose body reads a table its deps do not name fails
    with UndeclaredReadError (lineage and `x+` selections would miss the read)."""
    db = tmp_path / "d.duckdb"
    assert run.materialize("core/file_state,core/ast_nodes,core/goids", target=str(sample_repo),
                           db=str(db), tools=[]).success
    warehouse = Warehouse(target=TargetRepo(root=str(sample_repo)), db_path=str(db))

    def counter(name: str, deps: list[str]):
        @dg.asset(key=["demo", name], deps=[dg.AssetKey(d.split(".")) for d in deps],
                  io_manager_key="mem")
        def count(warehouse: Warehouse) -> int:
            return warehouse.read("core.goids").num_rows
        return count

    resources = {"warehouse": warehouse, "mem": dg.InMemoryIOManager()}
    sneaky = counter("sneaky", ["core.file_state"])
    result = dg.materialize([sneaky], resources=resources, raise_on_error=False)
    assert not result.success
    error = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    assert error.cause.cls_name == "UndeclaredReadError"
    assert "reads core.goids but does not declare it" in error.cause.message
    honest = counter("honest", ["core.goids"])
    assert dg.materialize([honest], resources=resources).asset_value(["demo", "honest"]) == \
        rows(db, "SELECT count(*) FROM core.goids")[0][0]


def test_readme_names_every_asset_group():
    """The README's list of asset groups is the definitions' (a group per schema)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    listed = re.search(r"one asset group per\s+schema \(([^)]*)\)", readme).group(1)
    groups = {spec.group_name for spec in defs().resolve_all_asset_specs()}
    assert set(re.findall(r"`(\w+)`", listed)) == groups


def test_a_check_comparing_with_a_table_never_built_says_so(sample_repo, tmp_path):
    """The repo_scan step alone (benchmark_parse's selection): its function_metrics check
    compares with core.goids, which no step of the selection writes; the check fails naming
    it, and the run succeeds instead of erroring on DuckDB's catalog."""
    from codeintel_assets.defs import ingest

    scan = [a for a in ingest.INGEST_ASSETS if a.op.name == "repo_scan"]
    result = run.materialize(dg.AssetSelection.assets(*scan), target=str(sample_repo),
                             db=str(tmp_path / "scan.duckdb"), tools=[], raise_on_error=False)
    assert result.success
    (check,) = [c for c in result.get_asset_check_evaluations()
                if c.check_name == "one_row_per_function_goid"]
    assert not check.passed
    assert check.metadata["measured"].value == \
        "not evaluated: core.goids never materialized in this database"
