"""Tool-backed steps: typing_ingest, coverage_ingest, tests_ingest, scip_ingest, crosswalk.

Every external program runs through the ToolService resource; no DuckDB connection is open
while a tool runs (the warehouse is read before and written after). A missing or failing tool
fails its own step with the ToolService error and writes nothing; a tool disabled in
ToolService.enabled writes empty tables and says so in the metadata.
"""

import os
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from codeintel_assets.defs.common import heartbeat, outputs, step
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.extract.scan import module_names
from codeintel_assets.extract.typedness import DEF_COLUMNS, typedness_rows
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import Sql
from codeintel_assets.tools import diagnostics as diag
from codeintel_assets.tools import scip, testrun
from codeintel_assets.tools.service import ToolService

STATIC_TOOLS = ("pyright", "pyrefly", "ruff")


def _with_ident(rows: list[dict], repo: str, commit: str) -> list[dict]:
    return [{**r, "repo": repo, "commit": commit} for r in rows]


# ---- typing_ingest -------------------------------------------------------------------------

TYPING_TABLES = ("analytics.typedness", "analytics.static_diagnostics", "analytics.diagnostics")


@step("typing_ingest", TYPING_TABLES, "pyright, pyrefly and ruff (ToolService) and the "
      "annotation counts of core.ast_nodes", ("core.file_state", "core.ast_nodes"))
def typing_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                  tools: ToolService):
    """Run the three static tools concurrently on the scanned Python files."""
    repo, root = target.info().slug, target.abs_root
    files = [job.rel_path for job in warehouse.python_jobs()]
    commit = warehouse.snapshot_commit()
    defs = warehouse.read("core.ast_nodes", DEF_COLUMNS,
                          where="node_type IN ('FunctionDef', 'AsyncFunctionDef')").to_pylist()

    enabled = [t for t in STATIC_TOOLS if tools.is_enabled(t)]
    methods = {"pyright": tools.pyright_diagnostics, "pyrefly": tools.pyrefly_diagnostics,
               "ruff": tools.ruff_diagnostics}
    wall: dict[str, float] = {}

    def timed(tool: str) -> list[dict]:
        started = time.perf_counter()
        try:
            with heartbeat(context, tool):
                return methods[tool](root, files)
        finally:
            wall[tool] = round(time.perf_counter() - started, 2)

    with ThreadPoolExecutor(max_workers=len(STATIC_TOOLS)) as pool:
        futures = {t: pool.submit(timed, t) for t in enabled}
    rows = [row for t in enabled for row in futures[t].result()]

    rows = _with_ident(diag.number_occurrences(rows), repo, commit)
    counts = diag.per_file_counts(rows, files)
    errors = {c["rel_path"]: c["pyright_errors"] + c["pyrefly_errors"] for c in counts}
    typedness = typedness_rows(repo, commit, files, defs, errors)
    metadata = {"files": len(files), "diagnostics": len(rows),
                "tools": dg.MetadataValue.json({t: ("ran" if t in enabled else "disabled")
                                                for t in STATIC_TOOLS}),
                "tool_wall_s": dg.MetadataValue.json(wall)}
    yield from outputs(context, {
        "analytics.typedness": table("analytics.typedness").from_rows(typedness),
        "analytics.static_diagnostics": table("analytics.static_diagnostics").from_rows(
            _with_ident(counts, repo, commit)),
        "analytics.diagnostics": table("analytics.diagnostics").from_rows(rows),
    }, metadata)


# ---- coverage_ingest and tests_ingest: one shared test run ---------------------------------


def _shared_run(context, name: str, target: TargetRepo, warehouse: Warehouse,
                tools: ToolService):
    """The snapshot's test run (keyed by the scanned files' content hashes); when the test
    run is disabled, writes `name` empty and returns None (use with `yield from`)."""
    if not tools.is_enabled("tests"):
        reason = "test run disabled in ToolService.enabled"
        context.log.warning(f"{name}: {reason}; writing an empty table")
        yield from outputs(context, {name: table(name).empty()}, {"skipped": reason})
        return None
    warehouse.require("core.file_state")
    (snapshot,) = warehouse.gateway().query(
        "SELECT md5(coalesce(string_agg(rel_path || ':' || content_hash, ',' ORDER BY rel_path), "
        "'')) FROM core.file_state WHERE repo = ?", (target.info().slug,)).columns[0].to_pylist()
    slug = target.info().slug.replace("/", "__")
    workdir = os.path.join(warehouse.gateway().db_path.parent, "testruns", slug, snapshot)
    with heartbeat(context, "tests"):
        run = tools.test_run(target.abs_root, workdir)
    _prune_test_runs(os.path.dirname(workdir), keep=snapshot)
    return run


def _prune_test_runs(parent: str, keep: str) -> None:
    """Delete the test-run folders of older snapshots: all but `keep` and the newest other one
    (a step of the previous snapshot may still be reading it)."""
    others = sorted((e for e in os.scandir(parent) if e.is_dir() and e.name != keep),
                    key=lambda e: e.stat().st_mtime, reverse=True)
    for entry in others[1:]:
        shutil.rmtree(entry.path, ignore_errors=True)


def _run_metadata(run: testrun.TestRun) -> dict:
    return {"pytest_exit_code": run.returncode, "test_run_s": round(run.wall_s, 2)}


@step("coverage_ingest", ("analytics.coverage_lines",), "coverage.py with per-test contexts "
      "(ToolService's shared pytest run, or an existing coverage file)", ("core.file_state",))
def coverage_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                    tools: ToolService):
    run = yield from _shared_run(context, "analytics.coverage_lines", target, warehouse, tools)
    if run is None:
        return
    scanned = {j.rel_path for j in warehouse.python_jobs()}
    rows = testrun.coverage_rows(run.coverage_path, target.abs_root, scanned) \
        if run.coverage_path else []
    data = table("analytics.coverage_lines").from_rows(
        _with_ident(rows, target.info().slug, warehouse.snapshot_commit()))
    yield from outputs(context, {"analytics.coverage_lines": data}, _run_metadata(run))


@step("tests_ingest", ("analytics.test_catalog",), "pytest-json-report of ToolService's shared "
      "pytest run (or an existing report)", ("core.file_state",))
def tests_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                 tools: ToolService):
    run = yield from _shared_run(context, "analytics.test_catalog", target, warehouse, tools)
    if run is None:
        return
    paths = warehouse.read("core.file_state", ["rel_path"], where="language = 'python'")
    module_of = {p: m for p, (m, _) in module_names(paths.column("rel_path").to_pylist()).items()}
    repo = target.info().slug
    rows = testrun.test_rows(run.report_path, target.abs_root, module_of, repo) \
        if run.report_path else []
    data = table("analytics.test_catalog").from_rows(
        _with_ident(rows, repo, warehouse.snapshot_commit()))
    statuses = Counter(data.column("status").to_pylist())
    yield from outputs(context, {"analytics.test_catalog": data},
                       {**_run_metadata(run), "statuses": dg.MetadataValue.json(dict(statuses))})


# ---- scip_ingest -----------------------------------------------------------------------------

SCIP_TABLES = ("core.scip_symbols", "core.scip_occurrences")
INDEX_KEY = dg.AssetKey(["index", "scip"])


@step("scip_ingest", SCIP_TABLES, "scip-python's SCIP index (protobuf, decoded with the "
      "package's scip_pb2)", ("core.file_state",),
      extra_outs={"index__scip": dg.AssetOut(
          key=INDEX_KEY, group_name="index", dagster_type=dg.Nothing, is_required=False,
          description="The SCIP index file of the target, built by scip-python; metadata gives "
          "its path, size, tool version and document count.", kinds={"scip"},
          automation_condition=dg.AutomationCondition.eager())})
def scip_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                tools: ToolService):
    info, root = target.info(), target.abs_root
    commit = warehouse.snapshot_commit()
    scanned = {j.rel_path for j in warehouse.python_jobs()}
    if not tools.is_enabled("scip"):
        reason = "scip disabled in ToolService.enabled"
        context.log.warning(f"scip_ingest: {reason}; writing empty tables")
        if INDEX_KEY in context.selected_asset_keys:
            yield dg.Output(None, output_name="index__scip", metadata={"skipped": reason})
        yield from outputs(context, {t: table(t).empty() for t in SCIP_TABLES},
                           {"skipped": reason})
        return
    index_path = os.path.join(warehouse.gateway().db_path.parent, "scip",
                              info.slug.replace("/", "__") + ".scip")
    with heartbeat(context, "scip"):
        built = tools.scip_index(root, index_path, info.slug, commit or "working-tree")
    symbols, occurrences = scip.decode(index_path, root)
    occurrences = [o for o in occurrences if o["rel_path"] in scanned]
    index_meta = {"path": index_path, "size_bytes": built["size_bytes"],
                  "tool_version": built["tool_version"],
                  "document_count": built["document_count"],
                  "excluded_files": dg.MetadataValue.json(built["excluded_files"]),
                  "attempts": built["attempts"], "index_s": round(built["wall_s"], 2)}
    if INDEX_KEY in context.selected_asset_keys:
        yield dg.Output(None, output_name="index__scip", metadata=index_meta)
    yield from outputs(context, {
        "core.scip_symbols": table("core.scip_symbols").from_rows(
            _with_ident(symbols, info.slug, commit)),
        "core.scip_occurrences": table("core.scip_occurrences").from_rows(
            _with_ident(occurrences, info.slug, commit)),
    }, {"index_path": index_path, "excluded_files": len(built["excluded_files"])})


# ---- crosswalk -----------------------------------------------------------------------------

CROSSWALK_SQL = """
WITH cst AS (
    SELECT rel_path, node_id, kind, start_line, start_col
    FROM core.cst_nodes WHERE repo = $repo AND kind IN ('Module', 'ClassDef', 'FunctionDef')
), occ AS (
    -- A redefinition (a property setter, say) has no SCIP definition of its own: its name
    -- token is an occurrence of the first definition's symbol, which is the right symbol.
    SELECT rel_path, start_line, start_col, symbol, is_definition
    FROM core.scip_occurrences WHERE repo = $repo AND NOT starts_with(symbol, 'local ')
)
SELECT g.repo, g.commit, g.goid, g.urn, g.module, g.rel_path, g.start_line, g.end_line,
       g.ast_node_id,
       c.node_id AS cst_node_id,
       s.symbol AS scip_symbol,
       CASE WHEN c.node_id IS NOT NULL AND s.symbol IS NOT NULL THEN 'exact'
            WHEN c.node_id IS NOT NULL OR s.symbol IS NOT NULL THEN 'partial'
            ELSE 'none' END AS match_status
FROM core.goids g
LEFT JOIN cst c
  ON c.rel_path = g.rel_path
 AND c.kind = CASE g.kind WHEN 'module' THEN 'Module' WHEN 'class' THEN 'ClassDef'
                          ELSE 'FunctionDef' END
 AND (g.kind = 'module' OR (c.start_line = g.name_line AND c.start_col < g.name_col))
LEFT JOIN occ s
  ON s.rel_path = g.rel_path
 AND ((g.kind = 'module' AND s.is_definition AND s.start_line = 1 AND s.start_col = 0
       AND s.symbol LIKE '%/__init__:')
      OR (g.kind <> 'module' AND s.start_line = g.name_line AND s.start_col = g.name_col))
WHERE g.repo = $repo
QUALIFY row_number() OVER (PARTITION BY g.goid
                           ORDER BY c.start_col DESC, s.is_definition DESC, s.symbol) = 1
"""


@step("crosswalk", ("core.goid_crosswalk",), "core.goids joined in DuckDB to core.cst_nodes "
      "(definition line) and core.scip_occurrences (definition on the name token)",
      ("core.goids", "core.cst_nodes", "core.scip_occurrences"))
def crosswalk(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    for name in ("core.goids", "core.cst_nodes", "core.scip_occurrences"):
        warehouse.require(name)
    query = CROSSWALK_SQL.replace("$repo", "?")
    yield from outputs(context, {"core.goid_crosswalk": Sql(query, (target.info().slug,) *
                                                             query.count("?"))}, {})


TOOL_ASSETS = [typing_ingest, coverage_ingest, tests_ingest, scip_ingest, crosswalk]
