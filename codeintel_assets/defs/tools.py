"""Tool-backed steps: typing_ingest, coverage_ingest, tests_ingest, scip_ingest, crosswalk.

Every external program runs through the ToolService resource; no DuckDB connection is open
while a tool runs (the warehouse is read before and written after). Tools run against the
target's interpreter (target.python, else the target's .venv/venv, else ours). What the target
breaks (a configuration a tool refuses, a test suite that crashes, collects nothing or times out)
is data: the tables keep the rows that exist, the metadata says the status and the reason, and a
WARN check `<tool>_completed` fails; the run stays green. So is a file that crashes a tool: it is
isolated by bisection and recorded in analytics.tool_failures. A missing tool, or a tool that
crashes on everything (our installation), fails its step with the ToolService error and writes
nothing; a tool disabled in ToolService.enabled writes empty tables and says so in the metadata.

Running the target's tests executes its code, so a run started by a sensor, a schedule,
declarative automation or the Git hook runs the suite only for a repository that opted in
(TargetRepo.tests_on_push, the fleet watch list's run_tests); otherwise coverage_ingest and
tests_ingest keep the rows they hold (none on a first build), say why in their metadata and
fail their WARN check, so everything downstream still builds, with coverage unknown. A run
started from the CLI or the UI runs it. The suite's results are cached per ToolService.test_run_key (the scan, the work tree
including the files the scan skips, the interpreter and every distribution installed in it, the
pytest arguments and plugin pins); Warehouse.full_rebuild and ToolService.rerun_tests run it again.
"""

import dataclasses
import functools
import os
import time
from collections import Counter
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dagster as dg

from codeintel_assets.defs.common import heartbeat, key, outputs, step
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.extract.typedness import DEF_COLUMNS, typedness_rows
from codeintel_assets.paths import rel_path_in_root
from codeintel_assets.storage import callgraph, derived, queries
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StaleTableError
from codeintel_assets.tools import coverage_data, pytest_report, scip_decode, testcache
from codeintel_assets.tools import diagnostics as diag
from codeintel_assets.tools.isolate import Culprit
from codeintel_assets.tools.registry import (
    BY_NAME,
    PYREFLY,
    PYRIGHT,
    RUFF,
    SCIP,
    STATIC_TOOLS,
    TESTS,
)
from codeintel_assets.tools.service import StaticRun, ToolService
from codeintel_assets.tools.testrun import TestRun


def _with_ident(rows: list[dict], repo: str, commit: str) -> list[dict]:
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
        problem = text.get("suite_problem", "-")  # the suite ran but is no evidence
        measured = problem if problem != "-" else \
            f"status {metadata.get('status')}" + (f": {first[0]}" if first else "")
        yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=passed,
                                  severity=dg.AssetCheckSeverity.WARN, metadata={
                                      **metadata, "measured": measured, "threshold":
                                      "the tool ran to the end on the target"})


def _status_metadata(status: str, reason: str, **more) -> dict:
    return {"status": status, "reason": dg.MetadataValue.md(f"```\n{reason}\n```" if reason
                                                            else "-"), **more}


# ---- typing_ingest -------------------------------------------------------------------------

TYPING_TABLES = ("analytics.typedness", "analytics.static_diagnostics", "analytics.diagnostics",
                 "analytics.tool_failures")
TYPING_CHECKS = {t: completion_spec("analytics.diagnostics", t) for t in STATIC_TOOLS}


@step("typing_ingest", TYPING_TABLES, "pyright, pyrefly and ruff (ToolService) and the "
      "annotation counts of core.ast_nodes", ("core.file_state", "core.ast_nodes"),
      check_specs=list(TYPING_CHECKS.values()))
def typing_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                  tools: ToolService):
    """Run the three static tools concurrently on the scanned Python files, resolving imports
    in the target's own environment."""
    repo, root = target.info().slug, target.abs_root
    files = [job.rel_path for job in warehouse.python_jobs()]
    commit = warehouse.snapshot_commit()
    defs = warehouse.read("core.ast_nodes", DEF_COLUMNS,
                          one_of={"node_type": ("FunctionDef", "AsyncFunctionDef")}).to_pylist()
    python = tools.target_python(root, target.python)
    context.log.info(f"typing_ingest: target interpreter {python.executable} ({python.reason})")
    methods = {PYRIGHT.name: lambda: tools.pyright_diagnostics(root, files, python),
               PYREFLY.name: lambda: tools.pyrefly_diagnostics(root, files, python),
               RUFF.name: lambda: tools.ruff_diagnostics(root, files)}
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
    rows = [row for t in STATIC_TOOLS for row in runs[t].rows]

    rows = _with_ident(diag.number_occurrences(rows), repo, commit)
    counts = diag.per_file_counts(rows, files)
    errors = {c["rel_path"]: c["pyright_errors"] + c["pyrefly_errors"] for c in counts}
    typedness = typedness_rows(repo, commit, files, defs, errors)
    metadata = {"files": len(files), "diagnostics": len(rows),
                "tools": dg.MetadataValue.json({t: runs[t].status for t in STATIC_TOOLS}),
                "tool_wall_s": dg.MetadataValue.json(wall),
                "tool_versions": dg.MetadataValue.json({t: BY_NAME[t].version()
                                                        for t in STATIC_TOOLS}),
                **python.metadata()}
    yield from outputs(context, {
        "analytics.typedness": table("analytics.typedness").from_rows(typedness),
        "analytics.static_diagnostics": table("analytics.static_diagnostics").from_rows(
            _with_ident(counts, repo, commit)),
        "analytics.diagnostics": table("analytics.diagnostics").from_rows(rows),
        "analytics.tool_failures": table("analytics.tool_failures").from_rows(_with_ident(
            [{"tool": c.tool, "rel_path": c.rel_path, "reason": c.reason, "rows_kept": c.rows_kept,
              "kind": "crash_with_others" if c.rows_kept else "crash"}
             for run in runs.values() for c in run.culprits], repo, commit)),
    }, metadata)
    for tool, run in runs.items():
        culprits = [dataclasses.asdict(c) for c in run.culprits]
        # Files the target's configuration excludes from the tool (ruff counts them).
        excluded = {} if run.excluded is None else {"excluded_files": run.excluded}
        yield from completion(context, TYPING_CHECKS[tool], run.completed, _status_metadata(
            run.status, run.reason, rows=len(run.rows), fallback=run.fallback or "-",
            culprits=dg.MetadataValue.json(culprits), **excluded))


# ---- coverage_ingest and tests_ingest: one shared test run ---------------------------------

TEST_RUN_READS = ("core.file_state", "core.modules")


@dataclass(frozen=True)
class SharedRun:
    """The snapshot's test run and the output metadata that says how it went."""

    run: TestRun
    metadata: dict


def _shared_run(context, name: str, target: TargetRepo, warehouse: Warehouse,
                tools: ToolService) -> Generator[dg.Output | dg.AssetCheckResult, None,
                                                 SharedRun | None]:
    """The snapshot's test run under the target's interpreter (use with `yield from`), or None
    when the suite does not run: disabled in ToolService.enabled (`name` is written empty), or
    a run started by automation for a repository that did not opt in (ToolService.
    test_run_refusal with TargetRepo.may_run_tests_unasked; `name` keeps its rows and its
    check fails). The run's folder is keyed by ToolService.test_run_key (the scan, the work
    tree, the interpreter and its distributions, the pytest arguments and plugins) and
    pinned per Dagster run (tools/testcache.py), so both steps share one suite run."""
    check = TEST_CHECKS[name]
    if not tools.is_enabled(TESTS.name):
        reason = (f"tests skipped (`--skip-tool tests`, i.e. tools.enabled without 'tests'): "
                  f"{name} is written empty; coverage is unknown downstream")
        context.log.warning(reason)
        yield from outputs(context, {name: table(name).empty()}, {"skipped": reason})
        yield from completion(context, check, True, _status_metadata("disabled", reason))
        return None
    refusal = tools.test_run_refusal(context.run.tags, target.may_run_tests_unasked())
    if refusal:
        yield from _keep_previous_rows(context, name, warehouse, refusal)
        return None
    root = target.abs_root
    python = tools.target_python(root, target.python)
    snapshot = queries.file_state_digest(warehouse.gateway(), target.info().slug)
    db_dir = warehouse.gateway().db_path.parent
    # The warehouse folder changes with every run: inside the tree it must not move the key.
    inside = rel_path_in_root(str(db_dir), root)
    exclude = [inside] if inside else []

    def compute_key() -> str:
        key = tools.test_run_key(root, python, snapshot, exclude)
        context.log.info(f"{name}: test-run key {key.digest} (work tree by {key.tree.method}, "
                         f"{key.tree.entries} entries; {key.distributions} distributions "
                         "installed in the interpreter)")
        return key.digest

    base = os.path.join(db_dir, "testruns", target.info().slug.replace("/", "__"))
    # --full (warehouse.full_rebuild) and --rerun-tests (tools.rerun_tests) never reuse a run.
    workdir = testcache.run_folder(base, context.run.run_id, compute_key,
                                   fresh=warehouse.full_rebuild or tools.rerun_tests)
    source_roots = sorted(set(warehouse.read("core.modules", ["source_root"])
                              .column(0).to_pylist()))
    context.log.info(f"{name}: test run under {python.executable} ({python.reason})")
    with heartbeat(context, TESTS.name):
        run = tools.test_run(root, workdir, python, source_roots)
    testcache.prune(base, keep=os.path.basename(workdir))
    if run.cached:
        context.log.info(f"{name}: reusing the test run of {workdir} (same key)")
    if not run.completed:
        context.log.warning(f"{name}: the target's test run {run.status}: {run.reason}")
    if run.problem:
        context.log.warning(f"{name}: the target's suite ran but is no evidence: {run.problem}")
    metadata = _status_metadata(run.status, run.reason, suite_problem=run.problem or "-",
                                pytest_exit_code=run.returncode,
                                test_run_s=round(run.wall_s, 2), test_run_reused=run.cached,
                                test_run_key=os.path.basename(workdir),
                                tool_versions=dg.MetadataValue.json(TESTS.versions()),
                                **python.metadata())
    return SharedRun(run, metadata)


def _keep_previous_rows(context, name: str, warehouse: Warehouse, refusal: str):
    """Materialize `name` with the rows it already holds (none on a first build) when policy
    keeps the suite from running: a skipped test run is a state of the test tables, not a
    missing materialization, so everything downstream still builds (its steps find no
    coverage of the snapshot's commit and treat coverage as unknown). The metadata and the
    failing WARN check say why; the kept rows keep the commit of the run that made them."""
    try:
        kept = warehouse.read(name, required=False)
    except StaleTableError:  # written by an older catalog: nothing of it can be kept
        kept = table(name).empty()
    commits = sorted(set(kept.column("commit").to_pylist()))
    context.log.warning(
        f"{name}: the target's test suite was not run: {refusal}. {name} keeps its "
        f"{kept.num_rows} previous rows (of commit {', '.join(commits) or 'none'}); run the "
        "step from the CLI or the UI, or opt the repository in to run it on every push.")
    metadata = _status_metadata("not_run", refusal, rows_kept=kept.num_rows,
                                kept_rows_commits=dg.MetadataValue.json(commits))
    yield from outputs(context, {name: kept}, metadata)
    yield from completion(context, TEST_CHECKS[name], False, metadata)


# What tests_ingest reads to find an inherited test's definition (storage/callgraph.py's
# repo_linker: class bases, and imports for re-exported bases).
MRO_READS = ("core.definition_refs", "core.imports")
TEST_CHECKS = {t: completion_spec(
    t, "test run", "a suite that crashes, collects nothing or times out, or whose tests mostly "
    "error in setup or collection or none pass: suite_problem names the first error; or a run "
    "that may not execute it: status not_run")
    for t in ("analytics.coverage_lines", "analytics.test_catalog")}


@step("coverage_ingest", ("analytics.coverage_lines",), "coverage.py with per-test contexts "
      "(ToolService's shared pytest run, or an existing coverage file)", TEST_RUN_READS,
      check_specs=[TEST_CHECKS["analytics.coverage_lines"]])
def coverage_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                    tools: ToolService):
    name = "analytics.coverage_lines"
    shared = yield from _shared_run(context, name, target, warehouse, tools)
    if shared is None:
        return
    run, metadata = shared.run, shared.metadata
    scanned = {j.rel_path for j in warehouse.python_jobs()}
    rows = coverage_data.coverage_rows(run.coverage_path, target.abs_root, scanned) \
        if run.coverage_path else []
    data = table(name).from_rows(_with_ident(rows, target.info().slug,
                                             warehouse.snapshot_commit()))
    yield from outputs(context, {name: data}, metadata)
    yield from completion(context, TEST_CHECKS[name], run.healthy, metadata)


@step("tests_ingest", ("analytics.test_catalog",), "pytest-json-report of ToolService's shared "
      "pytest run (or an existing report); test_goid joined from core.goids, along the class's "
      "MRO for an inherited test",
      (*TEST_RUN_READS, "core.goids", *MRO_READS),
      check_specs=[TEST_CHECKS["analytics.test_catalog"]])
def tests_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                 tools: ToolService):
    name, slug = "analytics.test_catalog", target.info().slug
    warehouse.require("core.goids")
    shared = yield from _shared_run(context, name, target, warehouse, tools)
    if shared is None:
        return
    run, metadata = shared.run, shared.metadata
    # The module name of every parsed file, as its rows carry it: core.goids' module rows
    # (the same names as core.modules', for the files that parsed).
    modules = warehouse.read("core.goids", ["rel_path", "qualname"],
                             equal={"kind": "module"}).to_pylist()
    module_of = {m["rel_path"]: m["qualname"] for m in modules}
    rows = pytest_report.test_rows(run.report_path, target.abs_root, module_of) \
        if run.report_path else []
    files = sorted({r["rel_path"] for r in rows})
    definitions = warehouse.read("core.goids", ["rel_path", "qualname", "start_line", "goid"],
                                 paths=files).to_pylist() if files else []
    # An inherited test is defined along its class's MRO, maybe in another file: the call
    # graph's Linker knows it (built only when a test is not defined where it ran).
    mro = all(warehouse.has(t) for t in MRO_READS)
    linker = functools.cache(lambda: callgraph.repo_linker(warehouse.gateway(), slug))
    rows = pytest_report.resolve_test_goids(
        rows, definitions, (lambda cls, member: linker().defining(cls, member)) if mro else None)
    data = table(name).from_rows(_with_ident(rows, slug, warehouse.snapshot_commit()))
    statuses = Counter(data.column("status").to_pylist())
    yield from outputs(context, {name: data},
                       {**metadata, "statuses": dg.MetadataValue.json(dict(statuses)),
                        "tests_without_goid": sum(r["test_goid"] is None for r in rows)})
    yield from completion(context, TEST_CHECKS[name], run.healthy, metadata)


# ---- scip_ingest -----------------------------------------------------------------------------

SCIP_TABLES = ("core.scip_symbols", "core.scip_occurrences")
INDEX_KEY = dg.AssetKey(["index", "scip"])
SCIP_CHECK = completion_spec("core.scip_occurrences", "scip-python")


@step("scip_ingest", SCIP_TABLES, "scip-python's SCIP index (protobuf, decoded with the "
      "package's scip_pb2)", ("core.file_state",),
      extra_outs={"index__scip": dg.AssetOut(
          key=INDEX_KEY, group_name="index", dagster_type=dg.Nothing, is_required=False,
          description="The SCIP index file of the target, built by scip-python; metadata gives "
          "its path, size, tool version and document count.", kinds={"scip"},
          automation_condition=dg.AutomationCondition.eager())},
      check_specs=[SCIP_CHECK])
def scip_ingest(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse,
                tools: ToolService):
    info, root = target.info(), target.abs_root
    commit = warehouse.snapshot_commit()
    scanned = {j.rel_path for j in warehouse.python_jobs()}
    if not tools.is_enabled(SCIP.name):
        reason = f"{SCIP.name} disabled in ToolService.enabled"
        context.log.warning(f"scip_ingest: {reason}; writing empty tables")
        if INDEX_KEY in context.selected_asset_keys:
            yield dg.Output(None, output_name="index__scip", metadata={"skipped": reason})
        yield from outputs(context, {t: table(t).empty() for t in SCIP_TABLES},
                           {"skipped": reason})
        yield from completion(context, SCIP_CHECK, True, _status_metadata("disabled", reason))
        return
    python = tools.target_python(root, target.python)
    index_path = os.path.join(warehouse.gateway().db_path.parent, "scip",
                              info.slug.replace("/", "__") + ".scip")
    with heartbeat(context, SCIP.name):
        built = tools.scip_index(root, index_path, info.slug, commit or "working-tree", python,
                                 sorted(scanned))
    symbols, occurrences = scip_decode.decode(index_path, root)
    occurrences = [o for o in occurrences if o["rel_path"] in scanned]
    index_meta = {"path": index_path, "size_bytes": built.size_bytes,
                  "tool_version": built.tool_version,
                  "document_count": built.document_count,
                  "excluded_files": dg.MetadataValue.json(list(built.excluded_files)),
                  "attempts": built.attempts, "index_s": round(built.wall_s, 2),
                  **python.metadata()}
    if INDEX_KEY in context.selected_asset_keys:
        yield dg.Output(None, output_name="index__scip", metadata=index_meta)
    yield from outputs(context, {
        "core.scip_symbols": table("core.scip_symbols").from_rows(
            _with_ident(symbols, info.slug, commit)),
        "core.scip_occurrences": table("core.scip_occurrences").from_rows(
            _with_ident(occurrences, info.slug, commit)),
    }, {"index_path": index_path, "excluded_files": len(built.excluded_files),
        **python.metadata()})
    # The files scip-python crashed on are culprits as the static tools' are (tools/isolate.py);
    # scip-python names them itself, so they are excluded and the index rebuilt without them.
    culprits = [Culprit("scip-python", path, "scip-python crashed while indexing this file; "
                        "the index was rebuilt without it", rows_kept=False)
                for path in built.excluded_files]
    reason = "\n".join(f"{c.rel_path}: {c.reason}" for c in culprits)
    yield from completion(context, SCIP_CHECK, not culprits, _status_metadata(
        "crashed" if culprits else "ok", reason,
        culprits=dg.MetadataValue.json([dataclasses.asdict(c) for c in culprits])))


# ---- crosswalk -----------------------------------------------------------------------------

@step("crosswalk", ("core.goid_crosswalk",), "core.goids joined in DuckDB to core.cst_nodes "
      "(definition line) and core.scip_occurrences (definition on the name token)",
      ("core.goids", "core.cst_nodes", "core.scip_occurrences"))
def crosswalk(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    for name in ("core.goids", "core.cst_nodes", "core.scip_occurrences"):
        warehouse.require(name)
    yield from outputs(context, {"core.goid_crosswalk": derived.crosswalk(target.info().slug)},
                       {})


TOOL_ASSETS = [typing_ingest, coverage_ingest, tests_ingest, scip_ingest, crosswalk]
