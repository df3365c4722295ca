"""Ingestion steps: thin wiring of the pure extractors to the warehouse.

Each step reads what it needs through the Warehouse, runs an extractor from
`codeintel_assets.extract` across processes, and returns Arrow tables that the DuckDB IO
manager (the StorageGateway) writes. Steps that yield several tables are subsettable
multi-assets: selecting one table runs the step and writes only that table.
"""


import time
from collections import Counter

import dagster as dg
import pyarrow as pa

from codeintel_assets.defs.resources import TargetRepo, Warehouse, column_schema
from codeintel_assets.extract.config_values import (
    LITERALS_SCHEMA,
    attach_references,
    extract_config_values,
    literal_index,
    string_literals,
)
from codeintel_assets.extract.cst import extract_cst
from codeintel_assets.extract.docstrings import extract_docstrings
from codeintel_assets.extract.goids import AST_COLUMNS, DEF_NODE_TYPES, goids_from_ast_nodes
from codeintel_assets.extract.parallel import ExtractResult, FileJob, run_extractor
from codeintel_assets.extract.python_ast import extract_ast
from codeintel_assets.extract import repo_tables
from codeintel_assets.extract.scan import absolute, list_files, scanner
from codeintel_assets.extract.tags import TagRulesError, load_codeowners, load_tag_rules
from codeintel_assets.storage.catalog import schemas, table

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


def step(name: str, tables: tuple[str, ...], source: str, deps: tuple[str, ...] = ()):
    """One step of the step graph: a multi-asset over its tables (subsettable if several)."""
    subsettable = len(tables) > 1
    return dg.multi_asset(
        name=name, deps=[key(d) for d in deps], can_subset=subsettable, pool=POOL,
        outs={key(t).to_python_identifier(): dg.AssetOut.from_spec(
            spec(t, source), dagster_type=pa.Table, is_required=not subsettable) for t in tables},
    )


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


def _extract(context, target: TargetRepo, label: str, fn, jobs: list[FileJob], tables):
    result = run_extractor(fn, jobs, schemas(*tables), workers=target.workers or None,
                           progress=progress_logger(context, label))
    for err in result.errors:
        context.log.warning(f"{label}: {err.rel_path}: {err.error}")
    return result


def _outputs(context, tables: dict[str, pa.Table], metadata: dict):
    for name, data in tables.items():
        if key(name) in context.selected_asset_keys:
            yield dg.Output(data, output_name=key(name).to_python_identifier(), metadata=metadata)


# ---- repo_scan -----------------------------------------------------------------------------

REPO_SCAN_TABLES = ("core.file_state", "core.modules", "core.repo_map", "analytics.tags_index")


@step("repo_scan", REPO_SCAN_TABLES, "the work tree (os.walk, os.stat, blake2b, ast.parse), "
      "git, tags_index.yaml and CODEOWNERS")
def repo_scan(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    """Scan the work tree: file state, modules, the repository row and path tags."""
    info = target.info()
    root = target.abs_root
    paths = list_files(root, target.includes, target.excludes)
    context.log.info(f"repo_scan: {len(paths)} files under {root} (commit {info.commit or '-'})")
    jobs = [FileJob(info.slug, info.commit, p, absolute(root, p)) for p in paths]
    result = _extract(context, target, "repo_scan", scanner(target.max_file_bytes), jobs,
                      ["core.file_state"])
    file_state = result.tables["core.file_state"]
    state = file_state.select(["rel_path", "language", "content_hash"]).to_pylist()

    try:
        rules, tag_error = load_tag_rules(root), ""
    except TagRulesError as exc:
        rules, tag_error = (), str(exc)
        context.log.warning(f"repo_scan: {exc}; no tags applied")
    tags_index, tags_of = repo_tables.tags_index(info, rules, [r["rel_path"] for r in state])
    modules = repo_tables.modules(
        info, [r["rel_path"] for r in state if r["language"] == "python"], tags_of,
        load_codeowners(root))
    previous = warehouse.read("core.file_state", ["rel_path", "content_hash"], required=False)
    changes = repo_tables.change_counts(
        {r["rel_path"]: r["content_hash"] for r in previous.to_pylist()},
        {r["rel_path"]: r["content_hash"] for r in state})
    repo_map = repo_tables.repo_map(info, file_state.num_rows, modules.num_rows, changes)
    statuses = Counter(file_state.column("parse_status").to_pylist())
    metadata = {**run_metadata(result), **changes, "commit": info.commit,
                "parse_status": dict(statuses), "tags_error": tag_error}
    yield from _outputs(context, {"core.file_state": file_state, "core.modules": modules,
                                  "core.repo_map": repo_map, "analytics.tags_index": tags_index},
                        metadata)


# ---- ast_extract ---------------------------------------------------------------------------

AST_TABLES = ("core.ast_nodes", "core.ast_metrics", "core.imports")


@step("ast_extract", AST_TABLES, "Python's ast module (one ast.parse per file)",
      ("core.file_state",))
def ast_extract(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    """Parse every Python file that scanned ok once with `ast`: nodes, metrics, imports."""
    result = _extract(context, target, "ast_extract", extract_ast, warehouse.python_jobs(),
                      AST_TABLES)
    yield from _outputs(context, result.tables, run_metadata(result))


# ---- single-table file steps ---------------------------------------------------------------


@step("cst_extract", ("core.cst_nodes",), "LibCST (PositionProvider, QualifiedNameProvider)",
      ("core.file_state",))
def cst_extract(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    result = _extract(context, target, "cst_extract", extract_cst, warehouse.python_jobs(),
                      ["core.cst_nodes"])
    yield from _outputs(context, result.tables, run_metadata(result))


@step("docstrings_ingest", ("core.docstrings",), "ast.get_docstring and docstring-parser",
      ("core.file_state",))
def docstrings_ingest(context: dg.AssetExecutionContext, target: TargetRepo,
                      warehouse: Warehouse):
    result = _extract(context, target, "docstrings_ingest", extract_docstrings,
                      warehouse.python_jobs(), ["core.docstrings"])
    yield from _outputs(context, result.tables, run_metadata(result))


@step("config_ingest", ("analytics.config_values",), "tomllib, PyYAML, json, configparser "
      "and .env files; references from string literals of Python files (ast)",
      ("core.file_state",))
def config_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    info, root = target.info(), target.abs_root
    configs = warehouse.read("core.file_state", ["rel_path", "commit"],
                             where="language <> 'python'").to_pylist()
    jobs = [FileJob(info.slug, r["commit"], r["rel_path"], absolute(root, r["rel_path"]))
            for r in configs]
    result = _extract(context, target, "config_ingest", extract_config_values, jobs,
                      ["analytics.config_values"])
    literals = run_extractor(string_literals, warehouse.python_jobs(),
                             {"literals": LITERALS_SCHEMA}, workers=target.workers or None)
    values = attach_references(result.tables["analytics.config_values"],
                               literal_index(literals.tables["literals"].to_pylist()))
    yield from _outputs(context, {"analytics.config_values": values}, run_metadata(result))


# ---- goids ---------------------------------------------------------------------------------


@step("goids", ("core.goids",), "core.ast_nodes (Module, ClassDef, FunctionDef and "
      "AsyncFunctionDef rows) hashed with blake2b-128", ("core.ast_nodes",))
def goids(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    started = time.perf_counter()
    placeholders = ", ".join("?" for _ in DEF_NODE_TYPES)
    defs = warehouse.read("core.ast_nodes", AST_COLUMNS,
                          where=f"node_type IN ({placeholders})", params=DEF_NODE_TYPES)
    out = goids_from_ast_nodes(target.info().slug, defs)
    yield from _outputs(context, {"core.goids": out},
                        {"definitions": defs.num_rows,
                         "compute_s": round(time.perf_counter() - started, 3)})


INGEST_ASSETS = [repo_scan, ast_extract, cst_extract, docstrings_ingest, config_ingest, goids]
