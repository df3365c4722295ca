"""Shared pieces of the asset modules: asset keys and specs from the catalog, the step
decorator, progress logging and run metadata."""

import dagster as dg
import pyarrow as pa

from codeintel_assets.defs.resources import TargetRepo, column_schema
from codeintel_assets.extract.parallel import ExtractResult, FileJob, run_extractor
from codeintel_assets.storage.catalog import schemas, table
from codeintel_assets.storage.gateway import Sql

# Every step that writes DuckDB runs in this pool; dagster.yaml limits it to one at a time.
POOL = "duckdb_writer"
PROGRESS_EVERY_S = 5.0


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


# What a table asset returns: Arrow rows, or a SELECT the gateway runs inside DuckDB.
TableData = dg.PythonObjectDagsterType((pa.Table, Sql), name="TableData",
                                       description="pyarrow.Table or gateway.Sql")


def step(name: str, tables: tuple[str, ...], source: str, deps: tuple[str, ...] = (),
         extra_outs: dict[str, dg.AssetOut] | None = None):
    """One step of the step graph: a multi-asset over its tables (subsettable if several)."""
    subsettable = len(tables) + len(extra_outs or {}) > 1
    outs = {key(t).to_python_identifier(): dg.AssetOut.from_spec(
        spec(t, source), dagster_type=TableData, is_required=not subsettable) for t in tables}
    return dg.multi_asset(name=name, deps=[key(d) for d in deps], can_subset=subsettable,
                          pool=POOL, outs={**outs, **(extra_outs or {})})


def progress_logger(context, label: str):
    """A progress callback that logs files done of total, rate and elapsed time every 5 s."""
    last = [0.0]

    def report(done: int, total: int, elapsed: float) -> None:
        if done == total or elapsed - last[0] >= PROGRESS_EVERY_S:
            last[0] = elapsed
            rate = done / elapsed if elapsed else 0.0
            context.log.info(f"{label}: {done}/{total} files ({rate:.0f} files/s), "
                             f"{elapsed:.1f}s elapsed")
    return report


def run_metadata(result: ExtractResult) -> dict:
    """Files, failures, wall time and rates of one extraction, for output metadata."""
    wall = max(result.wall_s, 1e-9)
    return {
        "files": result.files,
        "failed_files": len(result.errors),
        "failures": dg.MetadataValue.json([{"rel_path": e.rel_path, "error": e.error}
                                           for e in result.errors[:100]]),
        "extract_s": round(result.wall_s, 3),
        "files_per_s": round(result.files / wall, 1),
        "rows_per_s": round(result.rows() / wall, 1),
    }


def extract(context, target: TargetRepo, label: str, fn, jobs: list[FileJob], tables):
    result = run_extractor(fn, jobs, schemas(*tables), workers=target.workers or None,
                           progress=progress_logger(context, label))
    for err in result.errors:
        context.log.warning(f"{label}: {err.rel_path}: {err.error}")
    return result


def outputs(context, tables: dict[str, pa.Table], metadata: dict):
    for name, data in tables.items():
        if key(name) in context.selected_asset_keys:
            yield dg.Output(data, output_name=key(name).to_python_identifier(), metadata=metadata)
