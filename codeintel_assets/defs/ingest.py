"""Ingestion steps: thin wiring of the pure extractors to the warehouse.

Each step reads what it needs through the Warehouse, runs an extractor from
`codeintel_assets.extract` across processes on the files that changed since each of its tables
was written (see `storage.incremental` and `storage.changes`), and returns a FileDelta per
table that the DuckDB IO manager (the StorageGateway) applies. Steps that yield several tables
are subsettable multi-assets: selecting one table runs the step and writes only that table.
"""


import datetime as dt
import time
from collections import Counter

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.defs.common import (
    extract,
    jobs_extractor,
    key,
    outputs,
    run_metadata,
    step,
    update_files,
)
from codeintel_assets.defs.resources import TargetRepo, ToolService, Warehouse
from codeintel_assets.defs.tools import completion, completion_spec
from codeintel_assets.extract import config_values as config_extract
from codeintel_assets.extract import cst as cst_extract_module
from codeintel_assets.extract import goids as goids_module
from codeintel_assets.extract import python_pass, repo_tables, scan
from codeintel_assets.extract.config_references import LITERALS_TABLE
from codeintel_assets.extract.config_values import config_extractor
from codeintel_assets.extract.cst import extract_cst
from codeintel_assets.extract.goids import (
    AST_COLUMNS,
    DEF_NODE_TYPES,
    goids_from_ast_nodes,
)
from codeintel_assets.extract.naming import module_names
from codeintel_assets.extract.package_roots import declared_source_roots
from codeintel_assets.extract.parallel import ExtractResult, FileJob
from codeintel_assets.extract.scan import (
    PASS_FILES,
    PASS_FILES_SCHEMA,
    SkippedPath,
    absolute,
    language_of,
    list_tree,
    scanner,
    split_unchanged,
)
from codeintel_assets.extract.tags import TagRulesError, load_codeowners, load_tag_rules
from codeintel_assets.extract.vendored import vendored_files
from codeintel_assets.storage import derived, queries
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.changes import ChangeSet
from codeintel_assets.storage.gateway import FileDelta, ledger_digest
from codeintel_assets.storage.incremental import ledger_version

# ---- repo_scan -----------------------------------------------------------------------------

REPO_SCAN_TABLES = ("core.file_state", "core.modules", "core.repo_map", "analytics.tags_index")
# git refusing the checkout (dubious ownership: owned by another user) is the target's doing:
# the scan goes on without a commit, this WARN check fails with git's reason.
GIT_REFUSED = "git refused the repository, e.g. dubious ownership: docs/assets.md, function history"
GIT_CHECK = completion_spec("core.repo_map", "git", GIT_REFUSED)


@step("repo_scan", (*REPO_SCAN_TABLES, *python_pass.TABLES), "the work tree (git ls-files "
      "through ToolService, else os.walk; os.stat, blake2b), git, tags_index.yaml and "
      "CODEOWNERS; Python's ast module (one ast.parse and one walk per file for every table of "
      "the step; docstring-parser for core.docstrings)", check_specs=[GIT_CHECK],
      own_deps={t: ("core.file_state",) for t in python_pass.TABLES})
def repo_scan(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
              tools: ToolService):
    """Scan the work tree: file state, modules, the repository row and path tags; and the
    ast tables, from the scan's one parse of each Python file it reads (`_ast_outputs`).

    Files whose size and mtime equal the previous scan's are not read again; the change set
    (added, modified, deleted, unchanged by content hash) goes to core.repo_map and metadata,
    and so do the symlinks and unreadable paths the scan skipped (`skipped_paths`) and
    everything it left out, per kind (`left_out`, `left_out_paths`: ignored, excluded, ...).
    """
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    info = target.info()
    root = target.abs_root
    git = tools.git_files(root)
    listing = list_tree(root, git, target.includes, target.excludes)
    paths = listing.paths
    context.log.info(f"repo_scan: {len(paths)} files under {root} (commit {info.commit or '-'}"
                     f", listed by {'git ls-files' if git else 'a walk without Git'})")
    if info.git_error:
        context.log.warning(f"repo_scan: git refused the repository, scanned without a "
                            f"commit: {info.git_error}")

    state_spec = table("core.file_state")
    version = ledger_version("core.file_state", scan, f"max{target.max_file_bytes}")
    stored = warehouse.gateway().ledger(state_spec, info.slug)
    previous = warehouse.read("core.file_state", required=False).to_pylist()
    previous_scan = _previous_scan(warehouse)
    reuse = stored is not None and stored[0] == version and not warehouse.full_rebuild
    reused, to_scan = split_unchanged(
        root, paths, previous,
        int(previous_scan.replace(tzinfo=dt.UTC).timestamp() * 1e9)
        if reuse and previous_scan else None)
    # generated_at anchors the next scan's mtime test, so it must describe the scan that
    # wrote core.file_state: a run that writes repo_map but not file_state keeps the old one.
    writes_state = key("core.file_state") in context.selected_asset_keys
    # The ast tables' rows come from the scan's parse when the scan's file_state is written.
    pass_tables = [t for t in AST_TABLES if key(t) in context.selected_asset_keys
                   and writes_state]
    names = module_names([p for p in paths if language_of(p) == "python"],
                         declared_source_roots(root)) if pass_tables else {}
    scanned_modules = {p: names[p].module if p in names else None for p in to_scan}
    jobs = [FileJob(info.slug, info.commit, p, absolute(root, p), scanned_modules[p])
            for p in to_scan]
    result = extract(context, target, "repo_scan",
                     scanner(target.max_file_bytes, pass_tables), jobs,
                     ["core.file_state", *pass_tables], {PASS_FILES: PASS_FILES_SCHEMA})
    # A file the walk listed but the scan could not read is skipped as unreadable too.
    left_out = sorted([*listing.skipped, *(SkippedPath(e.rel_path, "unreadable", e.error)
                                           for e in result.errors)], key=lambda s: s.rel_path)
    skipped = [s for s in left_out if s.kind in ("symlink", "unreadable")]
    unreadable = sum(1 for s in skipped if s.kind == "unreadable")
    if skipped:
        context.log.warning(f"repo_scan: skipped {listing.count('symlink')} symlinks and "
                            f"{unreadable} unreadable paths (see skipped_paths)")
    reused = [{**r, "commit": info.commit} for r in reused]
    file_state = pa.concat_tables([state_spec.from_rows(reused),
                                   result.tables["core.file_state"]]).sort_by("rel_path")
    # Recomputed for reused rows too: a vendor.txt or nested config can change any file's tag.
    vendored = vendored_files(root, file_state.column("rel_path").to_pylist())
    file_state = _tag_vendored(file_state, vendored)
    state = file_state.select(["rel_path", "language", "content_hash"]).to_pylist()
    hashes = {r["rel_path"]: r["content_hash"] for r in state}

    try:
        rules, tag_error = load_tag_rules(root), ""
    except TagRulesError as exc:
        rules, tag_error = (), str(exc)
        context.log.warning(f"repo_scan: {exc}; no tags applied")
    tags_index, tags_of = repo_tables.tags_index(info, rules, [r["rel_path"] for r in state])
    modules = repo_tables.modules(
        info, [r["rel_path"] for r in state if r["language"] == "python"], tags_of,
        load_codeowners(root))
    changes = ChangeSet.diff({r["rel_path"]: r["content_hash"] for r in previous}, hashes)
    repo_map = repo_tables.repo_map(info, file_state.num_rows, modules.num_rows,
                                    changes.counts(),
                                    started if writes_state or previous_scan is None
                                    else previous_scan, listing.count("symlink"), unreadable)
    statuses = Counter(file_state.column("parse_status").to_pylist())
    metadata = {**run_metadata(result), **changes.counts(), "commit": info.commit,
                "git_error": info.git_error,
                "files_read": len(to_scan), "files_reused": len(reused),
                "changed_paths": dg.MetadataValue.json(list(changes.to_delete[:100])),
                "parse_status": dict(statuses), "tags_error": tag_error,
                "vendored_files": len(vendored),
                "symlinks_skipped": listing.count("symlink"), "unreadable_paths": unreadable,
                "skipped_paths": dg.MetadataValue.json(
                    [{"rel_path": s.rel_path, "reason": s.reason} for s in skipped[:100]]),
                "file_list": "git ls-files" if git else "walk (no Git)",
                "left_out": dict(Counter(s.kind for s in left_out)),
                "left_out_paths": dg.MetadataValue.json(_first_per_kind(left_out, 20))}
    # file_state is small: always written whole, with a ledger so a scanner version or
    # max_file_bytes change forces every file to be read again.
    state_delta = FileDelta(file_state, (), hashes, version, info.commit, True,
                            planned_against=ledger_digest(stored))
    yield from outputs(context, {"core.file_state": state_delta, "core.modules": modules,
                                  "core.repo_map": repo_map, "analytics.tags_index": tags_index},
                        metadata)
    if any(key(t) in context.selected_asset_keys for t in AST_TABLES):
        yield from _ast_outputs(context, target, warehouse,
                                result if pass_tables else None, scanned_modules)
    yield from completion(context, GIT_CHECK, not info.git_error,
                          {"commit": info.commit or "-", "git_error": info.git_error or "-"})


def _tag_vendored(file_state: pa.Table, reasons: dict[str, str]) -> pa.Table:
    """core.file_state with is_vendored and vendored_reason set on every row from `reasons`
    (rel_path -> reason, extract/vendored.py)."""
    paths = file_state.column("rel_path").to_pylist()
    for name, values in (("is_vendored", [p in reasons for p in paths]),
                         ("vendored_reason", [reasons.get(p) for p in paths])):
        i = file_state.schema.get_field_index(name)
        field = file_state.schema.field(i)
        file_state = file_state.set_column(i, field, pa.array(values, field.type))
    return file_state


def _first_per_kind(left_out: list[SkippedPath], n: int) -> dict[str, list[dict]]:
    """kind -> the first `n` paths of that kind with their reasons (repo_scan's metadata)."""
    out: dict[str, list[dict]] = {}
    for s in left_out:
        if len(out.setdefault(s.kind, [])) < n:
            out[s.kind].append({"rel_path": s.rel_path, "reason": s.reason})
    return out


def _previous_scan(warehouse: Warehouse) -> dt.datetime | None:
    """Start of the scan that wrote core.file_state (core.repo_map.generated_at, naive UTC)."""
    rows = warehouse.read("core.repo_map", ["generated_at"], required=False)
    return rows.column(0)[0].as_py() if rows.num_rows else None


# ---- the ast tables (repo_scan's pass) ------------------------------------------------------

AST_TABLES = python_pass.TABLES


def _ast_outputs(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                 scanned: ExtractResult | None, scanned_modules: dict[str, str | None]):
    """Output events of the selected ast tables (extract/python_pass.py), brought current with
    core.file_state as stored (so called after the scan's file_state was written, when it
    was): the files the scan parsed and built rows for (`scanned`, its PASS_FILES, built for
    the module of `scanned_modules`) are taken from the scan; the others the tables need are
    parsed here, once each."""
    inputs = warehouse.file_inputs("python")
    selected = [t for t in AST_TABLES if key(t) in context.selected_asset_keys]
    built = set(scanned.tables[PASS_FILES].column("rel_path").to_pylist()) if scanned else set()
    # A module name depends on the whole file set: rows built for another name are redone.
    ready = {p for p in built if p in inputs.jobs
             and inputs.jobs[p].module == scanned_modules.get(p)}
    parse = jobs_extractor(context, target, "ast_extract", python_pass.python_extractor(selected),
                           inputs.jobs, selected)

    def compute(paths: list[str]) -> ExtractResult:
        result = parse([p for p in paths if p not in ready])
        taken = [p for p in paths if p in ready]
        if taken:
            wanted = pa.array(taken, pa.string())
            for name in selected:
                rows = scanned.tables[name]
                rows = rows.filter(pc.is_in(rows[table(name).path_column], wanted))
                result.tables[name] = pa.concat_tables([rows, result.tables[name]])
            # Values the scan's pass could not store count as this extraction's losses.
            taken_set = set(taken)
            result.dropped += [d for d in scanned.dropped
                               if d.table in selected and d.rel_path in taken_set]
        result.files = len(paths)
        return result

    deltas, metadata = update_files(context, warehouse, AST_TABLES, inputs.fingerprints,
                                    python_pass, compute, commit=inputs.commit)
    for name in deltas:
        metadata[name]["files_from_scan"] = len(ready)
    yield from outputs(context, deltas, {}, metadata)


# ---- single-table file steps ---------------------------------------------------------------


@step("cst_extract", ("core.cst_nodes",), "LibCST (PositionProvider, QualifiedNameProvider)",
      ("core.file_state",))
def cst_extract(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    inputs = warehouse.file_inputs("python")
    deltas, metadata = update_files(
        context, warehouse, ["core.cst_nodes"], inputs.fingerprints, cst_extract_module,
        jobs_extractor(context, target, "cst_extract", extract_cst, inputs.jobs,
                       ["core.cst_nodes"]), commit=inputs.commit)
    yield from outputs(context, deltas, {}, metadata)


@step("config_ingest", ("analytics.config_values",), "tomllib, PyYAML, json, configparser and "
      ".env files; references from core.string_literals (repo_scan)",
      ("core.file_state", LITERALS_TABLE))
def config_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    """Config values of changed config files; references are then matched for every config
    row against core.string_literals as stored (a Python change can add one anywhere)."""
    warehouse.require(LITERALS_TABLE)
    slug = target.info().slug
    # The literals the references are matched against must still be these when the table is
    # written: the gateway refuses the write if core.string_literals changed meanwhile.
    literals_ledger = ledger_digest(warehouse.gateway().ledger(table(LITERALS_TABLE), slug))
    config = warehouse.file_inputs("config")
    configs, config_meta = update_files(
        context, warehouse, ["analytics.config_values"], config.fingerprints, config_extract,
        jobs_extractor(context, target, "config_ingest", config_extractor(target.max_file_bytes),
                       config.jobs, ["analytics.config_values"]),
        # The scan's limit decides what is too_large: another limit, other rows.
        qualifiers=(f"max{target.max_file_bytes}",), commit=config.commit or None,
        keep_unchanged=False)
    delta = configs["analytics.config_values"]
    # References of unchanged config files can change too: the table is rewritten whole,
    # matched inside DuckDB against the stored literals.
    values = derived.config_values_with_references(warehouse.gateway(), slug, delta)
    configs["analytics.config_values"] = FileDelta(
        values, (), delta.ledger, delta.version, delta.commit, True,
        planned_against=delta.planned_against,
        derived_from={LITERALS_TABLE: literals_ledger})
    yield from outputs(context, configs, {}, config_meta)


# ---- goids ---------------------------------------------------------------------------------


@step("goids", ("core.goids",), "core.ast_nodes (Module, ClassDef, FunctionDef and "
      "AsyncFunctionDef rows) hashed with blake2b-128; the snapshot commit from "
      "core.file_state", ("core.ast_nodes", "core.file_state"))
def goids(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    """GOIDs of the files whose core.ast_nodes rows changed since core.goids was written."""
    # core.ast_nodes' own ledger says which files its rows come from: goids follows it, and
    # its version, so a rebuilt ast_nodes rebuilds goids.
    warehouse.require("core.ast_nodes")
    upstream = warehouse.gateway().ledger(table("core.ast_nodes"), target.info().slug)
    if upstream is None:  # ast_nodes written without a ledger: rebuild from all of it, always
        context.log.warning("goids: core.ast_nodes has no ledger; rebuilding in full")
    ast_version, fingerprints = upstream or ("none", {})
    repo = target.info().slug

    def compute(paths):
        started = time.perf_counter()
        defs = queries.definition_nodes(warehouse.gateway(), repo, DEF_NODE_TYPES, AST_COLUMNS,
                                        paths if upstream is not None else None)
        return ExtractResult({"core.goids": goids_from_ast_nodes(repo, defs)},
                             files=len(paths), wall_s=time.perf_counter() - started)

    deltas, metadata = update_files(context, warehouse, ["core.goids"], fingerprints,
                                    goids_module, compute, qualifiers=(ast_version,),
                                    reads_files=False, force_full=upstream is None)
    yield from outputs(context, deltas, {}, metadata)


INGEST_ASSETS = [repo_scan, cst_extract, config_ingest, goids]
# What a push refreshes first (the git-push sensor, the post-commit hook): the file-level tables
# of the work tree. The tool-backed assets follow by their automation conditions.
INGEST_SELECTION = dg.AssetSelection.assets(*INGEST_ASSETS)
