"""End-to-end tests of the command lines: `dagster asset materialize`, `codeintel-assets` and
`dagster dev` (driven through its GraphQL API the way the UI drives it).

Every test runs the real executables of this virtualenv in a subprocess, against a real Git
repository written to a temp dir (the `sample_repo` fixture), and reads the resulting DuckDB
file read-only once the command has finished. Nothing listens on anything but 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from codeintel_assets import devserver
from codeintel_assets.storage.catalog import TABLES, table
from codeintel_assets.storage.views import VIEWS
from codeintel_assets_tests.conftest import (
    git,
    project_copy,
    readme_commands,
    stray_paths,
)

BIN = Path(sys.executable).parent
DAGSTER = BIN / "dagster"
CODEINTEL = BIN / "codeintel-assets"
REPO = "acme/widgets"
# A guard against a hung command, not a speed limit: the multiprocess job starts ~33 step
# processes (~3 s each) and takes 80-140 s on 2 cores, more when the machine is busy.
CMD_TIMEOUT_S = 420
# Tables with no rows when nothing went wrong (no tool crashed on the sample).
HEALTHY_EMPTY = {"analytics.tool_failures"}

REPO_SCAN_KEYS = (("core", "file_state"), ("core", "modules"), ("core", "repo_map"),
                  ("analytics", "tags_index"))


# ---- helpers -------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without DAGSTER_HOME / CODEINTEL_* (so no instance config leaks in), + extra."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DAGSTER_HOME", "CODEINTEL_TARGET", "CODEINTEL_DB")}
    env.update(extra)
    return env


def run_cmd(args: list, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=CMD_TIMEOUT_S)


def describe(proc: subprocess.CompletedProcess) -> str:
    return (f"exit {proc.returncode}\n--- stdout (tail) ---\n{proc.stdout[-4000:]}"
            f"\n--- stderr (tail) ---\n{proc.stderr[-4000:]}")


def dagster_materialize(select: str, repo: Path, db: Path, cwd: Path) -> subprocess.CompletedProcess:
    proc = run_cmd([DAGSTER, "asset", "materialize", "-m", "codeintel_assets.definitions",
                    "--select", select], cwd=cwd,
                   env=clean_env(CODEINTEL_TARGET=str(repo), CODEINTEL_DB=str(db)))
    assert proc.returncode == 0, describe(proc)
    logs = proc.stdout + proc.stderr
    assert "RUN_SUCCESS" in logs, describe(proc)
    assert "STEP_FAILURE" not in logs, describe(proc)
    failed_checks = [line for line in logs.splitlines()
                     if "ASSET_CHECK_EVALUATION" in line and not line.rstrip().endswith("passed.")]
    assert not failed_checks, "\n".join(failed_checks)
    return proc


@contextmanager
def read_db(db: Path):
    assert db.is_file(), f"{db} was not written"
    con = duckdb.connect(str(db), read_only=True)
    try:
        yield con
    finally:
        con.close()


def tables_in(con) -> set[str]:
    """Warehouse tables (not the gateway's `_codeintel` ledger, not the docs views)."""
    return {f"{s}.{t}" for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema <> '_codeintel' AND table_type = 'BASE TABLE'").fetchall()}


def views_in(con) -> set[str]:
    return {f"{s}.{t}" for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'VIEW'").fetchall()}


def repo_rows(con, name: str) -> int:
    return con.execute(f"SELECT count(*) FROM {name} WHERE repo = ?", [REPO]).fetchall()[0][0]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty cwd outside the project: no dagster.yaml / workspace.yaml is picked up."""
    d = tmp_path / "cwd"
    d.mkdir()
    return d


# ---- 1. dagster asset materialize ------------------------------------------------------------


def test_dagster_materialize_ast_nodes_and_children(sample_repo: Path, tmp_path: Path):
    """The README's command, from the root of a checkout (a copy, with its dagster.yaml):
    `.venv/bin/dagster asset materialize -m codeintel_assets.definitions --select ...`."""
    assert (".venv/bin/dagster asset materialize -m codeintel_assets.definitions --select "
            "'core/ast_nodes+'") in readme_commands("codeintel_assets.definitions --select")
    workdir = project_copy(tmp_path / "project")
    db = tmp_path / "x.duckdb"
    # The ast tables alone are built from core.file_state as stored: scan first, then
    # ast_nodes and its direct children (repo_scan's step runs for ast_nodes only).
    dagster_materialize("core/file_state", sample_repo, db, workdir)
    with read_db(db) as con:
        assert tables_in(con) == {"core.file_state"}
        assert repo_rows(con, "core.file_state") == 11

    proc = dagster_materialize("core/ast_nodes+", sample_repo, db, workdir)
    logs = proc.stdout + proc.stderr
    assert 'Started execution of step "repo_scan"' in logs
    assert 'Started execution of step "goids"' in logs
    assert 'Started execution of step "typing_ingest"' in logs  # reads core.ast_nodes too

    with read_db(db) as con:
        # repo_scan is a subsettable multi-asset: only core.ast_nodes of its tables is written
        # (core.file_state stays the first scan's: 11 rows).
        assert tables_in(con) == {"core.file_state", "core.ast_nodes", "core.goids",
                                  "analytics.typedness", "analytics.static_diagnostics",
                                  "analytics.diagnostics", "analytics.tool_failures"}
        assert repo_rows(con, "core.ast_nodes") > 0
        assert repo_rows(con, "core.goids") > 0

        goids = dict(con.execute(
            "SELECT qualname, kind FROM core.goids WHERE repo = ?", [REPO]).fetchall())
        assert goids["widgets.core.Widget.size#2"] == "method"
        assert goids["widgets.core.Widget.size"] == "method"
        assert goids["widgets.core.trace.<locals>.wrapper"] == "function"
        assert goids["widgets.core.Widget.fetch.<locals>.inner"] == "function"
        assert goids["widgets.core.Widget"] == "class"
        assert goids["widgets.core"] == "module"
        assert goids["widgets.util.helper"] == "function"
        # Files that do not parse (syntax error, bad encoding, NUL byte) yield no definitions.
        assert not any(q.startswith(("broken", "latin1", "nul")) for q in goids)

        start, name_line = con.execute(
            "SELECT start_line, name_line FROM core.goids WHERE repo = ? AND qualname = ?",
            [REPO, "widgets.core.Widget.build"]).fetchall()[0]
        assert (start, name_line) == (39, 41)  # first decorator line, `def build` line

        build = con.execute(
            "SELECT node_type, rel_path, lineno, decorator_start_line, decorator_end_line, "
            "decorators FROM core.ast_nodes WHERE repo = ? AND name = 'build' "
            "AND node_type = 'FunctionDef'", [REPO]).fetchall()
        assert len(build) == 1
        node_type, rel_path, lineno, deco_start, deco_end, decorators = build[0]
        assert rel_path == "src/widgets/core.py"
        assert deco_start is not None and deco_start < lineno
        assert (deco_start, deco_end, lineno) == (39, 40, 41)
        assert json.loads(decorators) == ["trace", "staticmethod"]
    # The runs are in the checkout's ignored .dagster/ (its dagster.yaml), and nothing else.
    assert (workdir / ".dagster" / "storage" / "history" / "runs.db").is_file()
    assert stray_paths(workdir) == []


def test_dagster_materialize_everything(sample_repo: Path, workdir: Path, tmp_path: Path):
    db = tmp_path / "x.duckdb"
    dagster_materialize("*", sample_repo, db, workdir)
    with read_db(db) as con:
        assert tables_in(con) == set(TABLES)
        assert views_in(con) == set(VIEWS)
        empty = [name for name in set(TABLES) - HEALTHY_EMPTY if repo_rows(con, name) == 0]
        assert not empty, f"tables without rows for {REPO}: {empty}"

        status = {p: (s, e) for p, s, e in con.execute(
            "SELECT rel_path, parse_status, parse_error FROM core.file_state WHERE repo = ?",
            [REPO]).fetchall()}
        assert status["broken.py"][0] == "syntax_error"
        assert status["latin1.py"][0] == "decode_error"
        assert status["nul.py"][0] == "binary"
        assert all(status[p][1] for p in ("broken.py", "latin1.py", "nul.py"))
        assert status["src/widgets/core.py"] == ("ok", None)
        assert status["pyproject.toml"] == ("ok", None)
        assert len(status) == 11

        repo_map = con.execute("SELECT branch, file_count, repo_root FROM core.repo_map "
                               "WHERE repo = ?", [REPO]).fetchall()
        assert repo_map == [("main", 11, str(sample_repo))]
        assert con.execute("SELECT value_preview FROM analytics.config_values WHERE repo = ? "
                           "AND key = 'tool.widgets.api_token'", [REPO]).fetchall() == [("***",)]
    # No instance storage was left behind in the cwd (temporary instance, no dagster.yaml).
    assert not (workdir / ".dagster").exists()


# ---- 2. codeintel-assets steps ---------------------------------------------------------------


def test_codeintel_steps(workdir: Path):
    proc = run_cmd([CODEINTEL, "steps"], cwd=workdir, env=clean_env())
    assert proc.returncode == 0, describe(proc)
    steps = {s["step"]: s for s in json.loads(proc.stdout)}
    assert list(steps) == ["repo_scan", "cst_extract", "config_ingest",
                           "goids", "typing_ingest", "coverage_ingest",
                           "tests_ingest", "scip_ingest", "crosswalk", "callgraph",
                           "import_graph", "symbol_uses", "graph_metrics",
                           "coverage_functions", "test_coverage_edges", "hotspots",
                           "function_history", "risk_factors", "docs_views"]
    assert steps["hotspots"]["reads"] == ["core.ast_metrics", "core.file_state"]
    assert steps["hotspots"]["requires"] == ["repo_scan"]
    assert steps["function_history"]["reads"] == ["core.goids"]
    assert steps["function_history"]["requires"] == ["goids"]
    # One parse per file: the ast tables are built from the scan's parse (a run selecting
    # only them reads core.file_state as stored).
    assert steps["repo_scan"]["tables"] == ["analytics.function_metrics",
                                            "analytics.function_types", "analytics.tags_index",
                                            "core.ast_metrics", "core.ast_nodes",
                                            "core.call_sites", "core.definition_refs",
                                            "core.docstrings", "core.file_state",
                                            "core.imports", "core.modules", "core.repo_map",
                                            "core.string_literals"]
    assert steps["repo_scan"]["requires"] == []
    assert steps["repo_scan"]["reads"] == ["core.file_state"]
    assert steps["cst_extract"]["requires"] == ["repo_scan"]
    assert steps["cst_extract"]["tables"] == ["core.cst_nodes"]
    # One parse per file: the literals come from the scan's pass, config_ingest reads them.
    assert steps["config_ingest"]["requires"] == ["repo_scan"]
    assert steps["config_ingest"]["reads"] == ["core.file_state", "core.string_literals"]
    assert steps["config_ingest"]["tables"] == ["analytics.config_values"]
    assert steps["goids"]["tables"] == ["core.goids"]
    assert steps["goids"]["requires"] == ["repo_scan"]
    assert steps["goids"]["reads"] == ["core.ast_nodes", "core.file_state"]
    # The tool steps (CATALOG.md's step graph).
    assert steps["typing_ingest"]["requires"] == ["repo_scan"]
    assert steps["coverage_ingest"]["requires"] == ["repo_scan"]
    # scip_ingest reads core.imports for the reverse import closure a push re-indexes.
    assert steps["scip_ingest"]["requires"] == ["repo_scan"]
    assert steps["scip_ingest"]["reads"] == ["core.file_state", "core.imports"]
    # test_goid is a join to core.goids (issue 9), along the class's MRO for an inherited
    # test (core.definition_refs' bases, core.imports' re-exports), beyond CATALOG.md's step
    # graph (README).
    assert steps["tests_ingest"]["requires"] == ["goids", "repo_scan"]
    assert steps["tests_ingest"]["reads"] == ["core.definition_refs", "core.file_state",
                                              "core.goids", "core.imports", "core.modules"]
    assert steps["scip_ingest"]["tables"] == ["core.scip_occurrences", "core.scip_symbols",
                                              "index.scip"]
    assert steps["crosswalk"]["requires"] == ["cst_extract", "goids", "scip_ingest"]
    # The graph steps (CATALOG.md: import_graph | ast_extract, now part of repo_scan).
    assert steps["import_graph"]["tables"] == ["graph.import_graph_edges", "graph.import_modules"]
    assert steps["import_graph"]["requires"] == ["repo_scan"]
    assert steps["import_graph"]["reads"] == ["core.imports", "core.modules"]
    # symbol_uses reads the crosswalk too, and the call linker's tables for a stub's
    # implementation (README: step deps beyond the catalog).
    assert steps["symbol_uses"]["requires"] == ["crosswalk", "goids", "repo_scan",
                                                "scip_ingest"]
    assert steps["symbol_uses"]["reads"] == ["core.definition_refs", "core.goid_crosswalk",
                                             "core.goids", "core.imports",
                                             "core.scip_occurrences", "core.scip_symbols"]
    assert steps["graph_metrics"]["requires"] == ["callgraph", "import_graph", "symbol_uses"]
    assert steps["graph_metrics"]["tables"] == ["analytics.graph_metrics_functions",
                                                "analytics.graph_metrics_modules",
                                                "analytics.graph_stats"]
    # callgraph (CATALOG.md: goids, ast_extract, scip_ingest) reads no core.ast_nodes.
    assert steps["callgraph"]["requires"] == ["goids", "repo_scan", "scip_ingest"]
    assert steps["callgraph"]["reads"] == ["core.call_sites", "core.definition_refs",
                                           "core.goids", "core.imports", "core.scip_occurrences",
                                           "core.scip_symbols"]
    # The coverage steps (CATALOG.md: coverage_functions | goids, coverage_ingest;
    # test_coverage_edges | goids, coverage_ingest, tests_ingest).
    assert steps["coverage_functions"]["requires"] == ["coverage_ingest", "goids"]
    assert steps["coverage_functions"]["reads"] == ["analytics.coverage_lines", "core.goids"]
    assert steps["test_coverage_edges"]["requires"] == ["coverage_ingest", "goids",
                                                        "tests_ingest"]
    assert steps["test_coverage_edges"]["reads"] == ["analytics.coverage_lines",
                                                     "analytics.test_catalog", "core.goids"]
    assert steps["docs_views"]["tables"] == sorted(VIEWS)
    assert steps["docs_views"]["reads"] == sorted({t for v in VIEWS.values() for t in v.reads})
    # ... and tests_ingest: a failure's message tells the environment's from the code's.
    assert steps["risk_factors"]["requires"] == [
        "coverage_functions", "hotspots", "repo_scan", "test_coverage_edges", "tests_ingest",
        "typing_ingest"]
    # Every catalog table is written by exactly one step (index.scip is a file, not a table).
    written = sorted(t for s in steps.values() for t in s["tables"])
    assert written == sorted([*TABLES, *VIEWS, "index.scip"])


# ---- 3. codeintel-assets materialize / summary -----------------------------------------------


def test_codeintel_materialize_prints_summary(sample_repo: Path, workdir: Path, tmp_path: Path):
    db = tmp_path / "cli.duckdb"
    proc = run_cmd([CODEINTEL, "materialize", "--target", sample_repo, "--db", db],
                   cwd=workdir, env=clean_env())
    assert proc.returncode == 0, describe(proc)
    out = proc.stdout
    assert f"repo {REPO} -> {db}" in out
    assert "rows per table:" in out
    rows = {}
    listing = [line for line in
               out.split("rows per table:")[1].split("ten most complex files")[0].splitlines()
               if line.strip()]
    for line in listing:
        name, count = line.split()
        rows[name] = int(count.replace(",", ""))
    assert len({len(line) for line in listing}) == 1  # one column of counts, however long a name
    assert set(rows) == set(TABLES)
    assert rows["core.file_state"] == 11
    assert rows["core.repo_map"] == 1
    assert rows["core.goids"] == 18
    assert all(n > 0 for name, n in rows.items() if name not in HEALTHY_EMPTY), rows

    # the suite ran: its line coverage as coverage.py counts it
    assert re.search(r"^line coverage \d+\.\d%: [\d,]+ of [\d,]+ statements in \d+ files \(as "
                     r"coverage.py reports them; test run of commit [0-9a-f]{12}\)$", out, re.M), out
    # the section ends at the blank line before the next (the ten riskiest functions)
    section = out.split("ten most complex files (decision points, lines):")[1]
    complex_lines = [ln.split() for ln in section.strip("\n").split("\n\n")[0].splitlines()
                     if ln.strip()]
    assert complex_lines, out
    assert complex_lines[0][2] == "src/widgets/core.py"
    assert int(complex_lines[0][0]) > int(complex_lines[1][0])
    # Broken/undecodable/binary files have no metrics: 6 python files parsed.
    assert [ln[2] for ln in complex_lines] == [
        "src/widgets/core.py", "src/widgets/util.py", "src/widgets/__init__.py",
        "src/widgets/sub/__init__.py", "src/widgets/sub/deep.py", "tests/test_core.py"]

    # The ten riskiest functions, riskiest first: score, level, qualname (path:line): reasons.
    header = "ten riskiest functions outside tests (risk 0-1, level, where, top reasons):\n"
    risky = out.split(header)[1]
    risky = [ln.split(None, 3) for ln in risky.strip("\n").split("\n\n")[0].splitlines()]
    with read_db(db) as con:
        assert repo_rows(con, "core.file_state") == 11
        functions, tests = con.execute(
            "SELECT count(*) FILTER (WHERE NOT is_test), count(*) FILTER (WHERE is_test) "
            "FROM analytics.goid_risk_factors WHERE repo = ?", [REPO]).fetchall()[0]
        top = con.execute("SELECT qualname, rel_path, lineno, risk_level FROM "
                          "analytics.goid_risk_factors WHERE repo = ? AND NOT is_test "
                          "ORDER BY risk_score DESC, rel_path, lineno LIMIT 1", [REPO]).fetchall()[0]
    assert tests > 0  # tests/test_core.py is test code, and is left out
    assert len(risky) == min(10, functions), out
    scores = [float(r[0]) for r in risky]
    assert scores == sorted(scores, reverse=True) and all(0 <= x <= 1 for x in scores)
    qualname, rel_path, lineno, level = top
    assert risky[0][1] == level and risky[0][2] == qualname
    assert risky[0][3].startswith(f"({rel_path}:{lineno}): ")

    # `summary` on the same database prints the same report without running anything.
    again = run_cmd([CODEINTEL, "summary", "--target", sample_repo, "--db", db],
                    cwd=workdir, env=clean_env())
    assert again.returncode == 0, describe(again)
    assert again.stdout == out


# ---- 4. dagster dev + GraphQL ----------------------------------------------------------------


@pytest.fixture
def dev_project(tmp_path: Path) -> Path:
    """A project-root-like cwd: a Git checkout of the project's configuration files."""
    return project_copy(tmp_path / "project")


def running_dagster_dev(cwd: Path, env: dict[str, str], log: Path,
                        command: tuple[str, ...] = (str(DAGSTER), "dev")):
    """`command` (`dagster dev`) started in `cwd`, ready and its code location loaded; stopped
    by process group on exit (codeintel_assets.devserver)."""
    return devserver.running_dagster_dev(cwd, env, log, command)


@pytest.fixture
def dagster_dev(sample_repo: Path, dev_project: Path, tmp_path: Path):
    db = tmp_path / "dev.duckdb"
    # Sensors off: runs happen only when a test (or the hook under test) asks.
    env = clean_env(CODEINTEL_TARGET=str(sample_repo), CODEINTEL_DB=str(db),
                    CODEINTEL_SENSORS="off")
    with running_dagster_dev(dev_project, env, tmp_path / "dagster_dev.log") as dev:
        yield dev, db, dev_project


def wait_for_run(dev: devserver.DagsterDev, tags: dict[str, str], timeout_s: float = 300) -> dict:
    """The first finished run carrying `tags` (waits for it)."""
    deadline = time.monotonic() + timeout_s
    query = {"filter": {"tags": [{"key": k, "value": v} for k, v in tags.items()]}}
    while True:
        results = dev.gql(RUNS_Q, query)["runsOrError"]["results"]
        done = [r for r in results if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
        if done:
            return done[0]
        assert time.monotonic() < deadline, f"no finished run with {tags}: {results}\n" \
            f"{dev.log_tail()}"
        time.sleep(1)


ASSET_NODES_Q = """
{ assetNodes {
    assetKey { path } groupName description
    metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name type } } } }
} }
"""

LAUNCH_M = """
mutation LaunchPipelineExecution($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { id runId status } }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on UnauthorizedError { message }
  }
}
"""

RUN_Q = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      assetSelection { path }
      stepStats { stepKey status }
      assetMaterializations {
        assetKey { path }
        metadataEntries { label ... on IntMetadataEntry { intValue } }
      }
    }
    ... on PythonError { message }
  }
}
"""


def test_dagster_dev_graphql_and_launch(dagster_dev):
    dev, db, project = dagster_dev

    # Locations come from the copied workspace.yaml.
    entries = dev.gql("{ workspaceOrError { ... on Workspace { locationEntries { name } } } }")
    location = entries["workspaceOrError"]["locationEntries"][0]["name"]
    assert location == "codeintel_assets"

    nodes = {tuple(n["assetKey"]["path"]): n for n in dev.gql(ASSET_NODES_Q)["assetNodes"]}
    assert set(nodes) == {tuple(name.split(".")) for name in (*TABLES, *VIEWS)} | {
        ("index", "scip")}
    for (schema, _), node in nodes.items():
        assert node["groupName"] == schema
        assert node["description"]
    ast_nodes = nodes[("core", "ast_nodes")]
    assert ast_nodes["groupName"] == "core"
    assert ast_nodes["description"].startswith(table("core.ast_nodes").description)
    assert nodes[("analytics", "config_values")]["groupName"] == "analytics"
    schema_entries = [e for e in ast_nodes["metadataEntries"]
                      if e["label"] == "dagster/column_schema"]
    assert len(schema_entries) == 1
    columns = [(c["name"], c["type"]) for c in schema_entries[0]["schema"]["columns"]]
    assert columns == [(c.name, c.duckdb_type) for c in table("core.ast_nodes").columns]
    assert ("decorator_start_line", "INTEGER") in columns

    # Materialize the repo_scan tables as the UI does ("Materialize selected").
    selection = [{"path": list(k)} for k in REPO_SCAN_KEYS]
    launched = dev.gql(LAUNCH_M, {"executionParams": {
        "selector": {
            "repositoryLocationName": location,
            "repositoryName": "__repository__",
            "pipelineName": "__ASSET_JOB",
            "assetSelection": selection,
            "assetCheckSelection": [{"assetKey": s, "name": "primary_key_unique_not_null"}
                                    for s in selection],
        },
        "mode": "default",
        "runConfigData": "{}",
        "executionMetadata": {"tags": []},
    }})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    deadline = time.monotonic() + 120
    while True:
        run = dev.gql(RUN_Q, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        assert time.monotonic() < deadline, f"run still {run['status']}:\n{dev.log_tail()}"
        time.sleep(1)
    assert run["status"] == "SUCCESS", f"{run}\n{dev.log_tail()}"

    assert sorted(tuple(k["path"]) for k in run["assetSelection"]) == sorted(REPO_SCAN_KEYS)
    steps = {s["stepKey"]: s["status"] for s in run["stepStats"]}
    assert steps.get("repo_scan") == "SUCCESS", steps
    # The primary-key checks of repo_scan's tables run as one check step.
    assert steps.get("repo_scan_primary_keys") == "SUCCESS", steps
    assert not any(k.startswith(("ast_extract", "goids", "cst_extract")) for k in steps), steps
    row_counts = {tuple(m["assetKey"]["path"]): e["intValue"]
                  for m in run["assetMaterializations"] for e in m["metadataEntries"]
                  if e["label"] == "dagster/row_count"}
    assert row_counts == {("core", "file_state"): 11, ("core", "modules"): 9,
                          ("core", "repo_map"): 1, ("analytics", "tags_index"): 5}

    # Instance storage went to the copied project's .dagster folder (relative to cwd), the
    # run's compute logs too (not into dagster dev's temporary folder); nothing else was
    # written; the UI shows no "Join the Dagster community" dialog.
    assert (project / ".dagster" / "storage").is_dir()
    assert list((project / ".dagster" / "compute_logs").rglob(f"*{run_id}*"))
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert stray_paths(project) == []
    assert dev.gql("{ shouldShowNux }") == {"shouldShowNux": False}

    # The run has finished: the DuckDB file is no longer being written.
    with read_db(db) as con:
        assert tables_in(con) == {"core.file_state", "core.modules", "core.repo_map",
                                  "analytics.tags_index"}
        assert repo_rows(con, "core.file_state") == 11
        statuses = dict(con.execute("SELECT rel_path, parse_status FROM core.file_state "
                                    "WHERE repo = ?", [REPO]).fetchall())
        assert statuses["broken.py"] == "syntax_error"
        assert statuses["src/widgets/core.py"] == "ok"


RUNS_Q = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status jobName tags { key value } } }
  }
}
"""


def test_post_commit_hook_triggers_a_run(dagster_dev, sample_repo, tmp_path):
    """A commit in a repository with the installed hook launches codeintel_ingest_job in the
    running `dagster dev`, tagged with the commit, and the run ingests the new code. A hook in
    another repository launches nothing: the single location serves its target only."""
    from codeintel_assets import trigger
    from codeintel_assets_tests.conftest import make_git_repo, write_files

    dev, db, _ = dagster_dev
    trigger.install_hook(sample_repo, dev.url)
    write_files(sample_repo, {"src/widgets/hooked.py": "def from_the_hook():\n    return 1\n"})
    git(sample_repo, "add", "-A")
    git(sample_repo, "commit", "-q", "-m", "hooked")  # runs .git/hooks/post-commit
    sha = git(sample_repo, "rev-parse", "HEAD")

    run = wait_for_run(dev, {"codeintel/commit": sha}, timeout_s=180)
    assert run["status"] == "SUCCESS", f"{run}\n{dev.log_tail()}"
    assert run["jobName"] == "codeintel_ingest_job"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["codeintel/repo"] == REPO and tags["codeintel/trigger"] == "hook"
    assert tags["codeintel/shape"] == "single"
    with read_db(db) as con:
        assert con.execute("SELECT qualname, \"commit\" FROM core.goids WHERE rel_path = ? "
                           "AND kind = 'function'", ["src/widgets/hooked.py"]).fetchall() == [
            ("widgets.hooked.from_the_hook", sha)]

    other = make_git_repo(tmp_path / "other", {"o.py": "x = 1\n"})
    with pytest.raises(trigger.TriggerError, match="fleet"):
        trigger.launch(str(other), dev.url)


def test_fleet_dagster_dev_sensor_and_hook(sample_repo: Path, tmp_path: Path):
    """The README's fleet `dagster dev`, from the root of a checkout (a copy): the fleet sensor
    registers the repository of the watch list as a partition and ingests its HEAD into the
    partition's own file; a commit with the hook installed launches that partition's run.
    All of Dagster's state stays in the ignored fleet/.dagster; no "community" dialog."""
    from codeintel_assets.storage.fleet import partition_db, partition_key
    from codeintel_assets.trigger import install_hook
    from codeintel_assets_tests.conftest import write_files

    project = project_copy(tmp_path / "project")
    (project / "fleet" / "repositories.yaml").write_text(f"repositories:\n  - {sample_repo}\n")
    home = tmp_path / "home"
    # `DAGSTER_HOME=$PWD/fleet/.dagster .venv/bin/dagster dev -w fleet/workspace.yaml`
    command = next(c for c in readme_commands("codeintel_assets.fleet") if " dev " in c)
    assignment, *argv = shlex.split(command.replace("$PWD", str(project)))
    name, value = assignment.split("=", 1)
    env = clean_env(CODEINTEL_FLEET_HOME=str(home), **{name: value})
    key = partition_key(sample_repo)
    with running_dagster_dev(project, env, tmp_path / "fleet_dev.log",
                             (str(project / argv[0]), *argv[1:])) as dev:
        assert dev.gql("{ shouldShowNux }") == {"shouldShowNux": False}
        run = wait_for_run(dev, {"dagster/partition": key, "codeintel/trigger": "sensor"})
        assert run["status"] == "SUCCESS", f"{run}\n{dev.log_tail()}"
        assert run["jobName"] == "codeintel_ingest_job"
        with read_db(partition_db(home, key)) as con:
            assert repo_rows(con, "core.goids") > 0

        install_hook(sample_repo, dev.url)
        write_files(sample_repo, {"src/widgets/hooked.py": "def hooked():\n    return 1\n"})
        git(sample_repo, "add", "-A")
        git(sample_repo, "commit", "-q", "-m", "hooked")
        sha = git(sample_repo, "rev-parse", "HEAD")
        run = wait_for_run(dev, {"codeintel/commit": sha, "codeintel/trigger": "hook"})
        assert run["status"] == "SUCCESS", f"{run}\n{dev.log_tail()}"
        assert {t["key"]: t["value"] for t in run["tags"]}["dagster/partition"] == key
    with read_db(partition_db(home, key)) as con:
        assert con.execute("SELECT qualname FROM core.goids WHERE rel_path = ? AND kind = "
                           "'function'", ["src/widgets/hooked.py"]).fetchall() == [
            ("widgets.hooked.hooked",)]
    assert (project / "fleet" / ".dagster" / "history" / "runs.db").is_file()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == \
        "M fleet/repositories.yaml"  # the watch list written above, and nothing else
    assert stray_paths(project) == []  # no logs/, .logs_queue/, .nux/ beside the config


def test_multiprocess_job_writes_safely(sample_repo, tmp_path):
    """One process per step (and two at a time): the file lock keeps DuckDB writers apart."""
    db = tmp_path / "mp.duckdb"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    # The tools that take longest (pyright, scip-python, the test run) are off: the lock is
    # what is under test, and each step's process start already costs seconds.
    config = cwd / "run.yaml"
    config.write_text("resources:\n  tools:\n    config:\n      enabled: [ruff, pyrefly]\n")
    proc = run_cmd([DAGSTER, "job", "execute", "-m", "codeintel_assets.definitions",
                    "-j", "codeintel_multiprocess_job", "-c", str(config)], cwd=cwd,
                   env=clean_env(CODEINTEL_TARGET=str(sample_repo), CODEINTEL_DB=str(db)))
    logs = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "RUN_SUCCESS" in logs, describe(proc)
    assert "Could not set lock" not in logs
    assert "STEP_FAILURE" not in logs, describe(proc)
    assert logs.count("Launching subprocess for") >= len(TABLES) // 2, describe(proc)
    with read_db(db) as con:
        off = {"core.scip_symbols", "core.scip_occurrences", "graph.symbol_use_edges",
               "analytics.coverage_lines", "analytics.test_catalog",
               "analytics.test_coverage_edges"}
        for name in set(TABLES) - HEALTHY_EMPTY - off:
            count = con.execute(f"SELECT count(*) FROM {name} WHERE repo = ?", [REPO]).fetchone()[0]
            assert count > 0, name
