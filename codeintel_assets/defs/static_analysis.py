"""typing_ingest: pyright, pyrefly and ruff on the files a change can affect, merged with the
rows of the files it cannot (storage/diagnostics_update.py), plus the annotation counts of
core.ast_nodes. Tool failures are data, as for every tool step (defs/tools.py)."""

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from codeintel_assets.defs.common import heartbeat, key, outputs, step, unchanged
from codeintel_assets.defs.resources import TargetRepo, ToolService, Warehouse
from codeintel_assets.defs.tools import (
    IMPORT_COLUMNS,
    completion,
    completion_spec,
    status_metadata,
    with_ident,
)
from codeintel_assets.extract.typedness import DEF_COLUMNS, typedness_rows
from codeintel_assets.storage import diagnostics_update as update
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import SkipCheck
from codeintel_assets.storage.tokens import code_version
from codeintel_assets.tools import diagnostics as diag
from codeintel_assets.tools.registry import (
    BY_NAME,
    PYREFLY,
    PYRIGHT,
    RUFF,
    STATIC_TOOLS,
)
from codeintel_assets.tools.service import CRASHED, OK, TIMED_OUT, StaticRun

TYPING_TABLES = ("analytics.typedness", "analytics.static_diagnostics", "analytics.diagnostics",
                 "analytics.tool_failures")
DIAGNOSTICS = "analytics.diagnostics"
# The tables typing_ingest computes from the merged diagnostics, and what they are built from.
DERIVED_TABLES = ("analytics.typedness", "analytics.static_diagnostics", "analytics.tool_failures")
DERIVED_INPUTS = ("core.file_state", "core.ast_nodes", DIAGNOSTICS)
TYPING_CHECKS = {t: completion_spec("analytics.diagnostics", t) for t in STATIC_TOOLS}


@step("typing_ingest", TYPING_TABLES, "pyright, pyrefly and ruff (ToolService) on the files "
      "a change can affect (storage/diagnostics_update.py) and the annotation counts of "
      "core.ast_nodes", ("core.file_state", "core.ast_nodes", "core.imports"),
      check_specs=list(TYPING_CHECKS.values()))
def typing_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                  tools: ToolService):
    """Run the three static tools concurrently, each on the files it must check again since
    analytics.diagnostics was written, resolving imports in the target's own environment."""
    repo, root = target.info().slug, target.abs_root
    inputs = warehouse.file_inputs("python")
    current = inputs.fingerprints
    files = sorted(current)
    commit = warehouse.snapshot_commit() if inputs.commit is None else inputs.commit
    python = tools.target_python(root, target.python)
    context.log.info(f"typing_ingest: target interpreter {python.executable} ({python.reason})")
    versions = {t: BY_NAME[t].version() for t in STATIC_TOOLS}
    plan = update.plan_static(warehouse.gateway(), repo, current, update.version_qualifiers(
        {t: v for t, v in versions.items() if tools.is_enabled(t)},
        [python.executable, *tools.distributions(python)],
        warehouse.file_inputs("config").fingerprints),
        lambda: warehouse.read("core.imports", IMPORT_COLUMNS).to_pylist(), warehouse.policy())
    checked = {t: list(plan.tools[t].files) for t in STATIC_TOOLS}
    for t in STATIC_TOOLS:
        context.log.info(f"typing_ingest: {t} {plan.tools[t].summary()}")
    methods = {PYRIGHT.name: lambda: tools.pyright_diagnostics(root, checked[PYRIGHT.name], python),
               PYREFLY.name: lambda: tools.pyrefly_diagnostics(root, checked[PYREFLY.name], python),
               RUFF.name: lambda: tools.ruff_diagnostics(root, checked[RUFF.name])}
    wall: dict[str, float] = {}

    def timed(tool: str) -> StaticRun:
        started = time.perf_counter()
        try:
            with heartbeat(context, tool):
                return methods[tool]()
        finally:
            wall[tool] = round(time.perf_counter() - started, 2)

    with ThreadPoolExecutor(max_workers=len(STATIC_TOOLS)) as pool:
        futures = {t: pool.submit(timed, t) for t in STATIC_TOOLS}
    runs = {t: futures[t].result() for t in STATIC_TOOLS}
    for run in runs.values():
        if not run.completed:
            context.log.warning(f"typing_ingest: {run.tool} {run.status}: {run.reason}")
    complete = all(r.status != TIMED_OUT for r in runs.values())
    # No tool checked a file (no Python file changed since the ledger): the stored rows stand
    # and only take the new commit, so they are not read, merged or rewritten.
    idle = complete and not plan.full and not plan.planned.plan.changes.to_delete
    rows = None if idle else _merged(warehouse, runs, plan, current, repo, commit)
    metadata = {"files": len(files),
                "tools": dg.MetadataValue.json({t: runs[t].status for t in STATIC_TOOLS}),
                "tool_wall_s": dg.MetadataValue.json(wall),
                "tool_versions": dg.MetadataValue.json(versions),
                "static_update": dg.MetadataValue.json({t: plan.tools[t].summary()
                                                        for t in STATIC_TOOLS}),
                **{f"pyright_{k}": v for k, v in plan.tools[PYRIGHT.name].summary().items()},
                **python.metadata()}
    diagnostics = update.diagnostics_delta(
        table(DIAGNOSTICS).from_rows([] if rows is None else rows), plan, current, commit,
        complete=complete)
    yield from outputs(context, {DIAGNOSTICS: diagnostics}, metadata, {DIAGNOSTICS: {
        "diagnostics": len(rows)} if rows is not None else {"unchanged": True}})
    # The tables computed from the merged rows are derived: kept while core.file_state,
    # core.ast_nodes and analytics.diagnostics (as just written) have the tokens they were
    # built from. The digest is read after that write and before any data read here.
    derived = [table(t) for t in DERIVED_TABLES if key(t) in context.selected_asset_keys]
    check = warehouse.gateway().skip_unchanged(derived,
        list(DERIVED_INPUTS), repo, f"{code_version()}\0typing_ingest\0{plan.planned.version}",
        keep=idle and not warehouse.full_rebuild)
    stored_failures = [] if plan.full else \
        warehouse.read("analytics.tool_failures", required=False).to_pylist()
    failures = update.merge(stored_failures, [
        {"tool": c.tool, "rel_path": c.rel_path, "reason": c.reason, "rows_kept": c.rows_kept,
         "kind": "crash_with_others" if c.rows_kept else "crash"}
        for run in runs.values() for c in run.culprits], plan, current)
    if check.unchanged:
        yield from unchanged(context, check)
    elif derived:
        if rows is None:
            rows = _merged(warehouse, runs, plan, current, repo, commit)
        defs = warehouse.read("core.ast_nodes", DEF_COLUMNS, one_of={
            "node_type": ("FunctionDef", "AsyncFunctionDef")}).to_pylist()
        counts = diag.per_file_counts(rows, files)
        errors = {c["rel_path"]: c["pyright_errors"] + c["pyrefly_errors"] for c in counts}
        # Built from the diagnostics this step wrote only when it wrote them (else: not kept).
        built = check if key(DIAGNOSTICS) in context.selected_asset_keys else SkipCheck(None)
        yield from outputs(context, {
            "analytics.typedness": table("analytics.typedness").from_rows(
                typedness_rows(repo, commit, files, defs, errors)),
            "analytics.static_diagnostics": table("analytics.static_diagnostics").from_rows(
                with_ident(counts, repo, commit)),
            "analytics.tool_failures": table("analytics.tool_failures").from_rows(with_ident(
                failures, repo, commit)),
        }, {**metadata, "diagnostics": len(rows)}, built_from=built)
    for tool, run in runs.items():
        culprits = [dataclasses.asdict(c) for c in run.culprits]
        # A crash on a file this run did not check again still stands, as a full run finds.
        kept = sorted(f["rel_path"] for f in failures if f["tool"] == tool and
                      not plan.tools[tool].rechecks(f["rel_path"]))
        status, reason = (run.status, run.reason) if run.status != OK or not kept else (
            CRASHED, f"{tool} crashed on {', '.join(kept)} (earlier runs; not checked again)")
        # Files the target's configuration excludes from the tool (ruff counts them).
        excluded = {} if run.excluded is None else {"excluded_files": run.excluded}
        yield from completion(context, TYPING_CHECKS[tool], run.completed and not kept,
                              status_metadata(status, reason, rows=len(run.rows),
                                              fallback=run.fallback or "-",
                                              culprits=dg.MetadataValue.json(culprits),
                                              **excluded))


def _merged(warehouse: Warehouse, runs: dict[str, StaticRun], plan: update.StaticPlan,
            current: dict[str, str], repo: str, commit: str) -> list[dict]:
    """analytics.diagnostics rows after this run: the stored rows the run leaves standing and
    the tools' new ones, numbered, with repo and commit."""
    stored = [] if plan.full else warehouse.read(DIAGNOSTICS, required=False).to_pylist()
    return with_ident(update.merge(stored, diag.number_occurrences(
        [row for t in STATIC_TOOLS for row in runs[t].rows]), plan, current), repo, commit)


STATIC_ASSETS = [typing_ingest]
