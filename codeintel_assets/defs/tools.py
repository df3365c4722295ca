"""Tool-backed steps: scip_ingest and crosswalk, and the completion checks every tool step
shares (typing_ingest, the static tools', is in defs/static_analysis.py; coverage_ingest and
tests_ingest, the test run's, in defs/testsuite.py).

Every external program runs through the ToolService resource; no DuckDB connection is open
while a tool runs (the warehouse is read before and written after). Tools run against the
target's interpreter (target.python, else the target's .venv/venv, else ours). What the target
breaks (a configuration a tool refuses, a test suite that crashes, collects nothing or times out)
is data: the tables keep the rows that exist, the metadata says the status and the reason, and a
WARN check `<tool>_completed` fails; the run stays green. So is a file that crashes a tool: it is
isolated by bisection and recorded in analytics.tool_failures. A missing tool, or a tool that
crashes on everything (our installation), fails its step with the ToolService error and writes
nothing; a tool disabled in ToolService.enabled writes empty tables and says so in the metadata.

The test run's policy (who may run the target's suite, reuse, selection) is defs/testsuite.py's.
"""

import dataclasses
import os
from pathlib import Path

import dagster as dg

from codeintel_assets.defs.common import (
    heartbeat,
    key,
    outputs,
    skip_check,
    step,
    unchanged,
)
from codeintel_assets.defs.resources import TargetRepo, ToolService, Warehouse
from codeintel_assets.storage import derived, scip_update
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.diagnostics_update import version_qualifiers
from codeintel_assets.storage.gateway import Derived, SkipCheck
from codeintel_assets.storage.tokens import code_version
from codeintel_assets.tools import scip_decode, scip_merge
from codeintel_assets.tools.glean_scip import Earlier, indexer_version
from codeintel_assets.tools.isolate import Culprit
from codeintel_assets.tools.registry import SCIP


def with_ident(rows: list[dict], repo: str, commit: str) -> list[dict]:
    return [{**r, "repo": repo, "commit": commit} for r in rows]


def completion_spec(table_name: str, tool: str, how: str = "an invalid configuration, a "
                    "suite that crashes, collects nothing or times out") -> dg.AssetCheckSpec:
    """A WARN check, evaluated by the step itself, that `tool` completed on the target;
    `how`: the ways the target breaks it, for the description."""
    return dg.AssetCheckSpec(
        name=f"{tool.replace('-', '_').replace(' ', '_')}_completed", asset=key(table_name),
        description=f"{tool} completed on the target. Fails (WARN) when the target broke it "
        f"({how}); the metadata gives the status and the reason, and the table keeps the rows "
        "that exist.")


def completion(context, spec: dg.AssetCheckSpec, passed: bool, metadata: dict):
    """The check result of `spec`, when selected (use with `yield from`); `measured` is the
    suite's problem, else the status and the reason's first line."""
    if spec.key in context.selected_asset_check_keys:
        text = {k: str(getattr(v, "value", v)) for k, v in metadata.items()}
        first = text.get("reason", "").strip("`\n -").splitlines()
        # The suite ran but is no evidence, or ran without its declared test requirements.
        problem = next((text[k] for k in ("suite_problem", "environment_problem")
                        if text.get(k, "-") != "-"), "-")
        measured = problem if problem != "-" else \
            f"status {metadata.get('status')}" + (f": {first[0]}" if first else "")
        yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=passed,
                                  severity=dg.AssetCheckSeverity.WARN, metadata={
                                      **metadata, "measured": measured, "threshold":
                                      "a run that ended on the target (a test suite: some "
                                      "test passed, at most half in error)"})


def status_metadata(status: str, reason: str, **more) -> dict:
    return {"status": status, "reason": dg.MetadataValue.md(f"```\n{reason}\n```" if reason
                                                            else "-"), **more}


# ---- scip_ingest -----------------------------------------------------------------------------

SCIP_TABLES = ("core.scip_symbols", "core.scip_occurrences")
INDEX_KEY = dg.AssetKey(["index", "scip"])
SCIP_CHECK = completion_spec("core.scip_occurrences", "scip-python")
IMPORT_COLUMNS = ["rel_path", "module", "imported", "level"]


def index_file(db_path: Path, slug: str) -> str:
    """The warehouse's SCIP index of repository `slug`: `scip/<slug>.scip` beside the database
    (`scip/<db stem>.<slug>.scip` for a database not named codeintel.duckdb). Updates merge
    into it, so two databases in one folder must not share one."""
    name = slug.replace("/", "__") + ".scip"
    if db_path.stem != "codeintel":
        name = f"{db_path.stem}.{name}"
    return os.path.join(db_path.parent, "scip", name)


@step("scip_ingest", SCIP_TABLES, "The SCIP index (protobuf, decoded with the package's "
      "scip_pb2; by pyrefly's Glean facts, tools/glean_scip.py, or scip-python: "
      "ToolService.symbol_indexer) of the files a change can affect, merged into the index of "
      "the others (storage/scip_update.py)", ("core.file_state", "core.imports"),
      extra_outs={"index__scip": dg.AssetOut(
          key=INDEX_KEY, group_name="index", dagster_type=dg.Nothing, is_required=False,
          description="The SCIP index file of the target, built by ToolService.symbol_indexer "
          "(pyrefly by default, or scip-python) and updated "
          "document by document after a push (one document per indexed file, in canonical "
          "form: tools/scip_merge.py); metadata gives its path, size, tool version and "
          "document count.", kinds={"scip"},
          automation_condition=dg.AutomationCondition.eager())},
      check_specs=[SCIP_CHECK])
def scip_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                tools: ToolService):
    info, root = target.info(), target.abs_root
    commit = warehouse.snapshot_commit()
    current = warehouse.file_inputs("python").fingerprints
    if not tools.is_enabled(SCIP.name):
        reason = f"{SCIP.name} disabled in ToolService.enabled"
        context.log.warning(f"scip_ingest: {reason}; writing empty tables")
        if INDEX_KEY in context.selected_asset_keys:
            yield dg.Output(None, output_name="index__scip", metadata={"skipped": reason})
        yield from outputs(context, {t: table(t).empty() for t in SCIP_TABLES},
                           {"skipped": reason})
        yield from completion(context, SCIP_CHECK, True, status_metadata("disabled", reason))
        return
    python = tools.target_python(root, target.python)
    index_path = index_file(warehouse.gateway().db_path, info.slug)
    previous = scip_merge.previous_index(index_path)
    plan = scip_update.plan_scip(
        warehouse.gateway(), info.slug, current, version_qualifiers(
            {SCIP.name: indexer_version(tools.symbol_indexer)},
            [python.executable, *tools.distributions(python)],
            warehouse.file_inputs("config").fingerprints),
        (lambda: warehouse.read("core.imports", IMPORT_COLUMNS).to_pylist())
        if warehouse.has("core.imports") else None, previous is not None, warehouse.policy())
    context.log.info(f"scip_ingest: {plan.summary()}")
    earlier = None if previous is None else Earlier(previous, frozenset(current))
    with heartbeat(context, SCIP.name):
        built = scip_merge.update_index(
            index_path, previous, plan.full, plan.files, plan.keeps, current,
            lambda files, out: tools.scip_index(root, out, info.slug,
                                                scip_update.PROJECT_VERSION, python, files,
                                                earlier))
    kept = _kept_symbols(warehouse, info.slug, index_path, plan)
    symbols, occurrences = ([], []) if kept.unchanged and not plan.files else \
        scip_decode.decode(index_path, root, None if plan.full else plan.files)
    occurrences = [o for o in occurrences if o["rel_path"] in current
                   and not plan.keeps(o["rel_path"])]
    update = {**plan.summary(), "files": dg.MetadataValue.json(list(plan.files[:100]))}
    indexer = {"indexer": tools.symbol_indexer, "indexer_version": built.tool_version}
    index_meta = {"path": index_path, "size_bytes": built.size_bytes,
                  "tool_version": built.tool_version, **indexer,
                  "document_count": built.document_count,
                  "holds": "one document per Python file of the scan, each from the run that "
                  "last indexed it (scip_update: which)",
                  "excluded_files": dg.MetadataValue.json(list(built.excluded_files)),
                  "attempts": built.attempts, "salvaged_documents": built.salvaged_documents,
                  "index_s": round(built.wall_s, 2), **update, **python.metadata()}
    if INDEX_KEY in context.selected_asset_keys:
        yield dg.Output(None, output_name="index__scip", metadata=index_meta)
    yield from outputs(context, {
        "core.scip_symbols": kept.unchanged.get("core.scip_symbols") or Derived(
            table("core.scip_symbols").from_rows(with_ident(symbols, info.slug, commit)),
            kept.input_digest),
        "core.scip_occurrences": scip_update.occurrences_delta(
            table("core.scip_occurrences").from_rows(with_ident(occurrences, info.slug, commit)),
            plan, current, commit),
    }, {"index_path": index_path, **indexer, "excluded_files": len(built.excluded_files),
        "index_s": round(built.wall_s, 2), **update, **python.metadata()})
    # The files the indexer crashed on are culprits as the static tools' are (tools/isolate.py):
    # scip-python names them itself, pyrefly's are found by bisection; the rest is indexed.
    culprits = [Culprit(tools.symbol_indexer, path, f"{tools.symbol_indexer} crashed while "
                        "indexing this file; the other files were indexed without it",
                        rows_kept=False)
                for path in built.excluded_files]
    # A file an earlier run crashed on has no document still, as a full run would find.
    culprits += [Culprit("scip-python", path, "no document since an earlier run (scip-python "
                         "crashed on it then); not indexed again", rows_kept=False)
                 for path in built.kept_failures]
    reason = "\n".join(f"{c.rel_path}: {c.reason}" for c in culprits)
    yield from completion(context, SCIP_CHECK, not culprits, status_metadata(
        "crashed" if culprits else "ok", reason,
        culprits=dg.MetadataValue.json([dataclasses.asdict(c) for c in culprits]),
        scip_update=plan.summary()["scip_update"], files_indexed=len(plan.files)))


def _kept_symbols(warehouse: Warehouse, slug: str, index_path: str,
                  plan: scip_update.ScipPlan) -> SkipCheck:
    """Whether core.scip_symbols (decoded from the whole index) stands: it was built from an
    index of the same bytes (the digest salts the check; core.file_state gives the commit the
    kept rows take). Only checked when nothing was indexed (a no-change commit: the index
    stands, so decoding it again would give the same rows); else only the digest the rebuild
    records. One DuckDB open."""
    salt = f"{code_version()}\0scip_symbols\0{scip_merge.index_digest(index_path)}"
    return warehouse.gateway().skip_unchanged(
        [table("core.scip_symbols")], ["core.file_state"], slug, salt,
        keep=not warehouse.full_rebuild and not plan.full and not plan.files)


# ---- crosswalk -----------------------------------------------------------------------------

@step("crosswalk", ("core.goid_crosswalk",), "core.goids joined in DuckDB to core.cst_nodes "
      "(definition line) and core.scip_occurrences (definition on the name token)",
      ("core.goids", "core.cst_nodes", "core.scip_occurrences"))
def crosswalk(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    check = skip_check(context, warehouse)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require("core.goids", "core.cst_nodes", "core.scip_occurrences")
    yield from outputs(context, {"core.goid_crosswalk": derived.crosswalk(target.info().slug)},
                       {}, built_from=check)


TOOL_ASSETS = [scip_ingest, crosswalk]
