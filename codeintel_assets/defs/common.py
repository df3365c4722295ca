"""Shared pieces of the asset modules: asset keys and specs from the catalog, the step
decorator, progress logging and run metadata."""

import dataclasses
from collections.abc import Mapping, Sequence
from types import ModuleType

import dagster as dg
import pyarrow as pa

from codeintel_assets import progress
from codeintel_assets.defs.io_manager import (
    STALE_PLAN_RETRIES,
    STALE_PLAN_RETRY_WAIT_S,
    column_schema,
)
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.extract.parallel import ExtractResult, FileJob, run_extractor
from codeintel_assets.storage import incremental
from codeintel_assets.storage.catalog import schemas, table
from codeintel_assets.storage.gateway import (
    Derived,
    FileDelta,
    SkipCheck,
    Sql,
    StalePlanError,
    Unchanged,
)
from codeintel_assets.storage.incremental import ExtractFn
from codeintel_assets.storage.tokens import code_version

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
# replace the repository's rows; a Derived wraps them with the input digest they were built
# from), a FileDelta (replaces the rows of changed files), or Unchanged (nothing to write).
TableData = dg.PythonObjectDagsterType(
    (pa.Table, Sql, FileDelta, Derived, Unchanged), name="TableData",
    description="pyarrow.Table, gateway.Sql, gateway.FileDelta, gateway.Derived or "
    "gateway.Unchanged")


def step(name: str, tables: tuple[str, ...], source: str, deps: tuple[str, ...] = (),
         extra_outs: dict[str, dg.AssetOut] | None = None, can_subset: bool = True,
         check_specs: Sequence[dg.AssetCheckSpec] = (),
         own_deps: Mapping[str, tuple[str, ...]] | None = None):
    """One step of the step graph: a multi-asset over its tables (subsettable if several,
    unless `can_subset` is False), with the checks only its run can evaluate. `own_deps`:
    table -> other tables of this step it is built from (a run selecting only it reads them
    as stored, and it follows their updates as other steps' tables do)."""
    subsettable = can_subset and len(tables) + len(extra_outs or {}) > 1
    own_deps = own_deps or {}

    # Everything downstream of repo_scan follows its upstream tables (the automation sensor);
    # repo_scan itself is started by the git-HEAD sensor, the hook, or a user.
    def out(t: str) -> dg.AssetOut:
        condition = dg.AutomationCondition.eager() if deps or own_deps.get(t) else None
        return dg.AssetOut.from_spec(
            spec(t, source).replace_attributes(automation_condition=condition),
            dagster_type=TableData, is_required=not subsettable)

    outs = {key(t).to_python_identifier(): out(t) for t in tables}
    internal = {key(t).to_python_identifier(): {key(d) for d in (*deps, *own_deps[t])}
                for t in own_deps} or None
    return dg.multi_asset(name=name, deps=[key(d) for d in deps], can_subset=subsettable,
                          pool=POOL, outs={**outs, **(extra_outs or {})},
                          check_specs=list(check_specs) or None,
                          internal_asset_deps=internal)


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


def extract(context, target: TargetRepo, label: str, fn, jobs: list[FileJob], tables,
            extra_schemas: Mapping[str, pa.Schema] | None = None):
    """`run_extractor` of `fn` over `jobs` into the catalog `tables` (and `extra_schemas`:
    name -> schema of rows that are no table), logging failures and dropped values."""
    result = run_extractor(fn, jobs, {**schemas(*tables), **(extra_schemas or {})},
                           workers=target.workers or None,
                           progress=progress_logger(context, label),
                           keys={t: table(t).primary_key for t in tables})
    for err in result.errors:
        context.log.warning(f"{label}: {err.rel_path}: {err.error}")
    for lost in result.dropped:
        context.log.warning(f"{label}: {lost.rel_path}: {lost.table}.{lost.column} not "
                            f"storable, {lost.action} dropped ({lost.reason})")
    return result


def outputs(context, tables: Mapping[str, pa.Table | Sql | FileDelta], metadata: dict,
            per_table: Mapping[str, dict] | None = None, built_from: SkipCheck | None = None):
    """Output events for the selected tables: shared `metadata` plus each table's own. With
    `built_from` (the step's `skip_check`), Arrow and Sql rows and FileDeltas are wrapped as
    `Derived`, so the write records the input digest they were built from."""
    for name, data in tables.items():
        if key(name) in context.selected_asset_keys:
            if built_from is not None and isinstance(data, pa.Table | Sql | FileDelta):
                data = Derived(data, built_from.input_digest)
            yield dg.Output(data, output_name=key(name).to_python_identifier(),
                            metadata={**metadata, **(per_table or {}).get(name, {})})


# ---- derived steps: skipped when their inputs did not change --------------------------------


def skip_check(context, warehouse: Warehouse, config: object = None) -> SkipCheck:
    """Whether the selected tables of this derived step can be kept: their inputs (the step's
    declared deps, exactly the tables it reads) have the content tokens they were built from,
    and the code and the step's `config` (any repr-stable value) are the same
    (StorageGateway.skip_unchanged; the kept rows take the new commit there, one DuckDB
    open). Never kept when the warehouse is set to `full_rebuild`. Call before reading any
    input; then `yield from unchanged(context, check)` and return, or build and pass the
    check to `outputs(built_from=...)`."""
    own = set(context.assets_def.node_keys_by_output_name.values())
    deps = {d for k in own for d in context.assets_def.asset_deps.get(k, ())} - own
    selected = [table(".".join(k.path)) for k in sorted(own, key=lambda k: k.path)
                if k in context.selected_asset_keys]
    salt = f"{code_version()}\0{context.assets_def.node_def.name}\0{config!r}"
    # Asked to rebuild everything: the digest only, nothing kept or written.
    return warehouse.gateway().skip_unchanged(
        selected, sorted(".".join(d.path) for d in deps), warehouse.target.info().slug, salt,
        keep=not warehouse.full_rebuild)


def unchanged(context, check: SkipCheck):
    """The outputs of a step `skip_check` found unchanged: every selected table is yielded
    (a step that yields no materialization would make Dagster skip everything downstream),
    as an Unchanged the IO manager records as metadata (`unchanged`, `input_digest`)."""
    context.log.info(f"{context.assets_def.node_def.name}: inputs unchanged since the last build "
                     f"({check.input_digest}); kept {len(check.unchanged)} table(s)")
    for name, kept in check.unchanged.items():
        yield dg.Output(kept, output_name=key(name).to_python_identifier())


# ---- incremental file-level updates ---------------------------------------------------------


def update_files(context, warehouse: Warehouse, tables: Sequence[str],
                 fingerprints: Mapping[str, str], extractor: ModuleType, extract_fn: ExtractFn,
                 qualifiers: Sequence[str] = (), reads_files: bool = True,
                 force_full: bool = False, only_selected: bool = True,
                 commit: str | None = None, keep_unchanged: bool = True,
                 ) -> tuple[dict[str, FileDelta | Unchanged], dict[str, dict]]:
    """`storage.incremental.update_files` for the file-level `tables` of one step (the
    selected ones, unless `only_selected` is False), logging to the run: a FileDelta and the
    output metadata per table. `extractor` is the module declaring VERSION and LIBRARIES;
    `reads_files` when it reads the work tree (edits since the scan are then detected).
    `commit`: the snapshot's commit when the caller has read it (FileInputs.commit; saves a
    DuckDB open), else read from core.file_state. With `keep_unchanged`, the tables none of
    whose files changed are brought to the new commit here, together over one connection, and
    come back as Unchanged (a caller that rewrites a table from its delta passes False)."""
    if only_selected:
        tables = [t for t in tables if key(t) in context.selected_asset_keys]
    result = incremental.update_files(
        warehouse.gateway(), warehouse.target.info().slug, tables, fingerprints, extractor,
        extract_fn, warehouse.snapshot_commit() if commit is None else commit, context.log,
        qualifiers=qualifiers,
        root=warehouse.target.abs_root if reads_files else None, policy=warehouse.policy(),
        force_full=force_full)
    deltas: dict[str, FileDelta | Unchanged] = dict(result.deltas)
    idle = {n: d for n, d in deltas.items() if keep_unchanged and not (
        d.full or d.to_delete or d.rows.num_rows) and key(n) in context.selected_asset_keys}
    if idle:
        try:
            counts = warehouse.gateway().apply_deltas(warehouse.target.info().slug, idle)
        except StalePlanError as exc:  # as the IO manager does: plan again
            context.log.warning(f"{', '.join(idle)}: {exc}; retrying the step")
            raise dg.RetryRequested(max_retries=STALE_PLAN_RETRIES,
                                    seconds_to_wait=STALE_PLAN_RETRY_WAIT_S) from exc
        deltas.update({n: Unchanged(d.planned_against or "", d.commit, counts[n])
                       for n, d in idle.items()})
    metadata = {name: {**run_metadata(result.extracted), **update.summary(),
                       "changed_paths": dg.MetadataValue.json(
                           list(update.plan.changes.to_delete[:100]))}
                for name, update in result.tables.items()}
    return deltas, metadata


def jobs_extractor(context, target: TargetRepo, label: str, fn, jobs: Mapping[str, FileJob],
                   tables: Sequence[str]) -> ExtractFn:
    """An ExtractFn running the per-file extractor `fn` over the jobs of the given paths."""
    return lambda paths: extract(context, target, label, fn, [jobs[p] for p in paths], tables)
