"""Shared pieces of the asset modules: asset keys and specs from the catalog, the step
decorator, progress logging and run metadata."""

import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets import progress
from codeintel_assets.defs.resources import (
    TargetRepo,
    Warehouse,
    column_schema,
    fingerprint_hash,
)
from codeintel_assets.extract.parallel import ExtractResult, FileJob, run_extractor
from codeintel_assets.extract.scan import changed_since_scan
from codeintel_assets.storage.catalog import schemas, table
from codeintel_assets.storage.changes import UpdatePlan, plan_update
from codeintel_assets.storage.gateway import FileDelta, Sql

# Every step that writes DuckDB runs in this pool; dagster.yaml limits it to one at a time.
POOL = "duckdb_writer"


def key(qualified_name: str) -> dg.AssetKey:
    return dg.AssetKey(qualified_name.split("."))


def spec(qualified_name: str, source: str) -> dg.AssetSpec:
    """The AssetSpec of a catalog table: key [schema, table], group = schema, column schema."""
    t = table(qualified_name)
    return dg.AssetSpec(
        key=key(qualified_name), group_name=t.schema,
        description=f"{t.description}\n\nSource: {source}. Primary key: {', '.join(t.primary_key)}.",
        metadata={"dagster/column_schema": column_schema(t),
                  "dagster/table_name": t.qualified_name},
        kinds={"duckdb", "python"},
    )


# What a table asset returns: Arrow rows or a SELECT the gateway runs inside DuckDB (both
# replace the repository's rows), or a FileDelta (replaces the rows of changed files).
TableData = dg.PythonObjectDagsterType((pa.Table, Sql, FileDelta), name="TableData",
                                       description="pyarrow.Table, gateway.Sql or gateway.FileDelta")


def step(name: str, tables: tuple[str, ...], source: str, deps: tuple[str, ...] = (),
         extra_outs: dict[str, dg.AssetOut] | None = None, can_subset: bool = True,
         check_specs: Sequence[dg.AssetCheckSpec] = (), optional: bool = False):
    """One step of the step graph: a multi-asset over its tables (subsettable if several,
    unless `can_subset` is False), with the checks only its run can evaluate. `optional`:
    the step may end without materializing its tables (the test steps of an automated run)."""
    # Dagster requires every output of a non-subsettable multi-asset, its checks' included, so
    # an optional step is subsettable even with one table.
    subsettable = can_subset and (optional or len(tables) + len(extra_outs or {}) > 1)
    # Everything downstream of repo_scan follows its upstream tables (the automation sensor);
    # repo_scan itself is started by the git-HEAD sensor, the hook, or a user.
    condition = dg.AutomationCondition.eager() if deps else None
    outs = {key(t).to_python_identifier(): dg.AssetOut.from_spec(
        spec(t, source).replace_attributes(automation_condition=condition),
        dagster_type=TableData, is_required=not subsettable) for t in tables}
    return dg.multi_asset(name=name, deps=[key(d) for d in deps], can_subset=subsettable,
                          pool=POOL, outs={**outs, **(extra_outs or {})},
                          check_specs=list(check_specs) or None)


def progress_logger(context, label: str):
    """A progress callback (done, total, elapsed s) for the extraction `label` of this step:
    a line in the run log at INFO every 5 s and at the end, every update to the progress
    listener (the CLI's bar)."""
    return progress.files_progress(context.log, _step_key(context), label)


def heartbeat(context, tool: str):
    """`with heartbeat(context, "pyright"):` logs at INFO that the tool started, is still
    running (every 5 s) and finished, and tells the progress listener."""
    return progress.heartbeat(context.log, _step_key(context), tool)


def _step_key(context) -> str:
    # A step's key is its op's handle (every op here is top-level), as in Dagster's events.
    return str(context.op_execution_context.op_handle)


def run_metadata(result: ExtractResult) -> dict:
    """Files, failures, wall time and rates of one extraction, for output metadata."""
    wall = max(result.wall_s, 1e-9)
    return {
        "files": result.files,
        "failed_files": len(result.errors),
        "failures": dg.MetadataValue.json([{"rel_path": e.rel_path, "error": e.error}
                                           for e in result.errors[:100]]),
        "values_dropped": sum(d.action == "value" for d in result.dropped),
        "rows_dropped": sum(d.action == "row" for d in result.dropped),
        "dropped": dg.MetadataValue.json([dataclasses.asdict(d) for d in result.dropped[:100]]),
        "extract_s": round(result.wall_s, 3),
        "files_per_s": round(result.files / wall, 1),
        "rows_per_s": round(result.rows() / wall, 1),
    }


def extract(context, target: TargetRepo, label: str, fn, jobs: list[FileJob], tables):
    result = run_extractor(fn, jobs, schemas(*tables), workers=target.workers or None,
                           progress=progress_logger(context, label),
                           keys={t: table(t).primary_key for t in tables})
    for err in result.errors:
        context.log.warning(f"{label}: {err.rel_path}: {err.error}")
    for lost in result.dropped:
        context.log.warning(f"{label}: {lost.rel_path}: {lost.table}.{lost.column} not "
                            f"storable, {lost.action} dropped ({lost.reason})")
    return result


def outputs(context, tables: Mapping[str, pa.Table | Sql | FileDelta], metadata: dict,
            per_table: Mapping[str, dict] | None = None):
    """Output events for the selected tables: shared `metadata` plus each table's own."""
    for name, data in tables.items():
        if key(name) in context.selected_asset_keys:
            yield dg.Output(data, output_name=key(name).to_python_identifier(),
                            metadata={**metadata, **(per_table or {}).get(name, {})})


# ---- incremental file-level updates ---------------------------------------------------------

# extract(paths) -> rows of those files for every table of the step.
ExtractFn = Callable[[Sequence[str]], ExtractResult]


def plan_tables(warehouse: Warehouse, tables: Sequence[str], fingerprints: Mapping[str, str],
                version: str, force_full: bool = False) -> dict[str, UpdatePlan]:
    """An UpdatePlan per table against its ledger; `version` is the extractor's (see
    `table_version`)."""
    gateway, repo = warehouse.gateway(), warehouse.target.info().slug
    ledgers = gateway.ledgers([table(t) for t in tables], repo) if tables else {}
    return {t: plan_update(ledgers[t], fingerprints, table_version(t, version),
                           force_full or warehouse.full_rebuild, warehouse.full_rebuild_share)
            for t in tables}


def table_version(name: str, extractor_version: str) -> str:
    """What a table's ledger records: the catalog version of the table, the extractor's, and
    the Python version (`ast` and the parsers change with it)."""
    python = "py{}.{}".format(*sys.version_info[:2])
    return f"{table(name).version()}/{extractor_version}/{python}"


def with_libraries(extractor_version: str, *distributions: str) -> str:
    """`extractor_version` plus the installed versions of the libraries its rows depend on, so
    upgrading one (LibCST, docstring-parser, PyYAML) rebuilds the tables it feeds."""
    return "+".join([extractor_version, *(f"{d}{metadata.version(d)}" for d in distributions)])


def update_files(context, warehouse: Warehouse, tables: Sequence[str],
                 fingerprints: Mapping[str, str], version: str, extract_fn: ExtractFn,
                 reads_files: bool = True, force_full: bool = False,
                 only_selected: bool = True) -> tuple[dict[str, FileDelta], dict[str, dict]]:
    """Bring the file-level `tables` of one step (the selected ones, unless `only_selected` is
    False) up to date with the files of `fingerprints` (rel_path -> fingerprint): plan each
    table, extract the union of the files the plans need once, and return a FileDelta and
    output metadata per table.

    When the extractor `reads_files` from the work tree, files whose bytes changed since the
    scan (an edit during the run) keep their new rows but stay out of the ledger, so the next
    run extracts them again; so do files the extractor failed on.
    """
    if only_selected:
        tables = [t for t in tables if key(t) in context.selected_asset_keys]
    plans = plan_tables(warehouse, tables, fingerprints, version, force_full)
    paths = sorted(set().union(*(p.to_extract for p in plans.values())))
    result = extract_fn(paths)
    unrecorded = {e.rel_path for e in result.errors}
    if reads_files:
        edited = changed_since_scan(warehouse.target.abs_root, {
            p: fingerprint_hash(fingerprints[p]) for p in paths if p not in unrecorded})
        for path in sorted(edited):
            context.log.warning(f"{path} changed since repo_scan; extracted as it is now and "
                                "left for the next run")
        unrecorded |= edited
    commit = warehouse.snapshot_commit()
    deltas, metadata = {}, {}
    for name, plan in plans.items():
        rows = result.tables[name]
        if len(plan.to_extract) != len(paths):  # another table of the step needed more files
            column = table(name).path_column
            rows = rows.filter(pc.is_in(rows[column], pa.array(plan.to_extract, pa.string())))
        # Only files this table re-extracted lose their entry; its other rows stand.
        missing = unrecorded.intersection(plan.to_extract)
        deltas[name] = FileDelta(
            rows, plan.to_delete, {p: f for p, f in fingerprints.items() if p not in missing},
            table_version(name, version), commit, plan.full)
        context.log.info(f"{name}: {plan.summary()}")
        metadata[name] = {**run_metadata(result), **plan.summary(),
                          "changed_paths": dg.MetadataValue.json(
                              list(plan.changes.to_delete[:100])),
                          "files_unrecorded": len(unrecorded)}
    return deltas, metadata


def jobs_extractor(context, target: TargetRepo, label: str, fn, jobs: Mapping[str, FileJob],
                   tables: Sequence[str]) -> ExtractFn:
    """An ExtractFn running the per-file extractor `fn` over the jobs of the given paths."""
    return lambda paths: extract(context, target, label, fn, [jobs[p] for p in paths], tables)
