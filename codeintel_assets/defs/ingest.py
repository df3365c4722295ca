"""Ingestion steps: thin wiring of the pure extractors to the warehouse.

Each step reads what it needs through the Warehouse, runs an extractor from
`codeintel_assets.extract` across processes, and returns Arrow tables that the DuckDB IO
manager (the StorageGateway) writes. Steps that yield several tables are subsettable
multi-assets: selecting one table runs the step and writes only that table.
"""


import time
from collections import Counter

import dagster as dg

from codeintel_assets.defs.common import extract, outputs, run_metadata, step
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.extract import repo_tables
from codeintel_assets.extract.config_values import (
    LITERALS_SCHEMA,
    attach_references,
    extract_config_values,
    literal_index,
    string_literals,
)
from codeintel_assets.extract.cst import extract_cst
from codeintel_assets.extract.docstrings import extract_docstrings
from codeintel_assets.extract.goids import (
    AST_COLUMNS,
    DEF_NODE_TYPES,
    goids_from_ast_nodes,
)
from codeintel_assets.extract.parallel import FileJob, run_extractor
from codeintel_assets.extract.python_ast import extract_ast
from codeintel_assets.extract.scan import absolute, list_files, scanner
from codeintel_assets.extract.tags import TagRulesError, load_codeowners, load_tag_rules

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
    result = extract(context, target, "repo_scan", scanner(target.max_file_bytes), jobs,
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
    yield from outputs(context, {"core.file_state": file_state, "core.modules": modules,
                                  "core.repo_map": repo_map, "analytics.tags_index": tags_index},
                        metadata)


# ---- ast_extract ---------------------------------------------------------------------------

AST_TABLES = ("core.ast_nodes", "core.ast_metrics", "core.imports")


@step("ast_extract", AST_TABLES, "Python's ast module (one ast.parse per file)",
      ("core.file_state",))
def ast_extract(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    """Parse every Python file that scanned ok once with `ast`: nodes, metrics, imports."""
    result = extract(context, target, "ast_extract", extract_ast, warehouse.python_jobs(),
                      AST_TABLES)
    yield from outputs(context, result.tables, run_metadata(result))


# ---- single-table file steps ---------------------------------------------------------------


@step("cst_extract", ("core.cst_nodes",), "LibCST (PositionProvider, QualifiedNameProvider)",
      ("core.file_state",))
def cst_extract(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    result = extract(context, target, "cst_extract", extract_cst, warehouse.python_jobs(),
                      ["core.cst_nodes"])
    yield from outputs(context, result.tables, run_metadata(result))


@step("docstrings_ingest", ("core.docstrings",), "ast.get_docstring and docstring-parser",
      ("core.file_state",))
def docstrings_ingest(context: dg.AssetExecutionContext, target: TargetRepo,
                      warehouse: Warehouse):
    result = extract(context, target, "docstrings_ingest", extract_docstrings,
                      warehouse.python_jobs(), ["core.docstrings"])
    yield from outputs(context, result.tables, run_metadata(result))


@step("config_ingest", ("analytics.config_values",), "tomllib, PyYAML, json, configparser "
      "and .env files; references from string literals of Python files (ast)",
      ("core.file_state",))
def config_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    info, root = target.info(), target.abs_root
    configs = warehouse.read("core.file_state", ["rel_path", "commit"],
                             where="language <> 'python'").to_pylist()
    jobs = [FileJob(info.slug, r["commit"], r["rel_path"], absolute(root, r["rel_path"]))
            for r in configs]
    result = extract(context, target, "config_ingest", extract_config_values, jobs,
                      ["analytics.config_values"])
    literals = run_extractor(string_literals, warehouse.python_jobs(),
                             {"literals": LITERALS_SCHEMA}, workers=target.workers or None)
    values = attach_references(result.tables["analytics.config_values"],
                               literal_index(literals.tables["literals"].to_pylist()))
    yield from outputs(context, {"analytics.config_values": values}, run_metadata(result))


# ---- goids ---------------------------------------------------------------------------------


@step("goids", ("core.goids",), "core.ast_nodes (Module, ClassDef, FunctionDef and "
      "AsyncFunctionDef rows) hashed with blake2b-128", ("core.ast_nodes",))
def goids(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    started = time.perf_counter()
    placeholders = ", ".join("?" for _ in DEF_NODE_TYPES)
    defs = warehouse.read("core.ast_nodes", AST_COLUMNS,
                          where=f"node_type IN ({placeholders})", params=DEF_NODE_TYPES)
    out = goids_from_ast_nodes(target.info().slug, defs)
    yield from outputs(context, {"core.goids": out},
                        {"definitions": defs.num_rows,
                         "compute_s": round(time.perf_counter() - started, 3)})


INGEST_ASSETS = [repo_scan, ast_extract, cst_extract, docstrings_ingest, config_ingest, goids]
