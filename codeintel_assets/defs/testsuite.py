"""The test steps, coverage_ingest and tests_ingest: one shared run of the target's suite.

Running the target's tests executes its code, so a run started by a sensor, a schedule,
declarative automation or the Git hook runs the suite only for a repository that opted in
(TargetRepo.tests_on_push, the fleet watch list's run_tests); otherwise coverage_ingest and
tests_ingest keep the rows they hold (none on a first build), say why in their metadata and
fail their WARN check, so everything downstream still builds, with coverage unknown. A run
started from the CLI or the UI runs it. The suite's results are cached per
ToolService.test_run_key (the scan, the work tree including the files the scan skips, the
interpreter and every distribution installed in it, the pytest arguments and plugin pins);
Warehouse.full_rebuild and ToolService.rerun_tests run it again. Between keys, a run executes
only the tests the change can affect (tools/testimpact.py) and merges their rows into the
previous run's (tools/testmerge.py); the metadata says `test_selection`, `selection_reason`,
`tests_executed` and `tests_collected`. What the target breaks is data and a failing WARN
check (defs/tools.py's `completion`), as for the other tools.
"""

import functools
import os
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass

import dagster as dg

from codeintel_assets.defs.common import heartbeat, outputs, step
from codeintel_assets.defs.resources import TargetRepo, ToolService, Warehouse
from codeintel_assets.defs.tools import (
    completion,
    completion_spec,
    status_metadata,
    with_ident,
)
from codeintel_assets.paths import rel_path_in_root
from codeintel_assets.storage import callgraph, queries
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StaleTableError
from codeintel_assets.tools import (
    coverage_data,
    pytest_report,
    testcache,
    testimpact,
    testmerge,
)
from codeintel_assets.tools.registry import TESTS
from codeintel_assets.tools.testrun import TestRun

TEST_RUN_READS = ("core.file_state", "core.modules")


@dataclass(frozen=True)
class SharedRun:
    """The snapshot's test run, the output metadata that says how it went, and whether tests
    failed while a declared test requirement was not installed (ToolService.
    unmet_test_requirements): those failures may be the environment's."""

    run: TestRun
    metadata: dict
    failed_without_requirements: bool = False

    @property
    def healthy(self) -> bool:
        return self.run.healthy and not self.failed_without_requirements


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
        yield from completion(context, check, True, status_metadata("disabled", reason))
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
    forced = "--full" if warehouse.full_rebuild else "--rerun-tests" if tools.rerun_tests else ""
    request = testimpact.Request(_python_hashes(warehouse), tuple(exclude),
                                 f"{forced} asked to run every test" if forced else "")
    with heartbeat(context, TESTS.name):
        run = tools.test_run(root, workdir, python, source_roots, request)
    testcache.prune(base, keep=os.path.basename(workdir))
    if run.cached:
        context.log.info(f"{name}: reusing the test run of {workdir} (same key)")
    context.log.info(f"{name}: {run.test_selection} test run ({run.selection_reason}): "
                     f"{run.tests_executed} of {run.tests_collected} collected tests executed")
    if not run.completed:
        context.log.warning(f"{name}: the target's test run {run.status}: {run.reason}")
    if run.problem:
        context.log.warning(f"{name}: the target's suite ran but is no evidence: {run.problem}")
    unmet = tools.unmet_test_requirements(root, python)
    missing = [str(u) for u in unmet if u.installed is None]
    failed = pytest_report.unsuccessful(run.report_path) if run.report_path else 0
    lacking = (f"{len(missing)} declared test requirement{'s' * (len(missing) > 1)} not "
               f"installed in {python.executable}: {'; '.join(missing)}") if missing else "-"
    if missing:  # said always; a failing check only where it may explain failures
        context.log.warning(f"{name}: {lacking}" + (
            f"; {failed} tests failed or ended in error, maybe for that reason" if failed
            else "; every test passed without them"))
    metadata = status_metadata(run.status, run.reason, suite_problem=run.problem or "-",
                                environment_problem=lacking,
                                unmet_test_requirements=dg.MetadataValue.json(
                                    [str(u) for u in unmet]),
                                pytest_exit_code=run.returncode,
                                test_run_s=round(run.wall_s, 2), test_run_reused=run.cached,
                                test_run_key=os.path.basename(workdir),
                                test_selection=run.test_selection,
                                selection_reason=run.selection_reason,
                                tests_executed=run.tests_executed,
                                tests_collected=run.tests_collected,
                                tool_versions=dg.MetadataValue.json(TESTS.versions()),
                                **python.metadata())
    return SharedRun(run, metadata, bool(missing and failed))


def _python_hashes(warehouse: Warehouse) -> dict[str, str]:
    """The scanned Python files' content hashes: what a selective test run compares."""
    rows = warehouse.read("core.file_state", ["rel_path", "content_hash"],
                          equal={"language": "python"}).to_pylist()
    return {r["rel_path"]: r["content_hash"] for r in rows}


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
    metadata = status_metadata("not_run", refusal, rows_kept=kept.num_rows,
                                kept_rows_commits=dg.MetadataValue.json(commits))
    yield from outputs(context, {name: kept}, metadata)
    yield from completion(context, TEST_CHECKS[name], False, metadata)


# What tests_ingest reads to find an inherited test's definition (storage/callgraph.py's
# repo_linker: class bases, and imports for re-exported bases).
MRO_READS = ("core.definition_refs", "core.imports")
TEST_CHECKS = {t: completion_spec(
    t, "test run", "a suite that crashes, collects nothing or times out, or whose tests mostly "
    "error in setup or collection or none pass: suite_problem names the first error; a suite "
    "with failing tests run without a test requirement the target declares: "
    "environment_problem names it; or a run that may not execute it: status not_run")
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
    rows = testmerge.read_lines(run.lines_path, scanned) if run.lines_path else \
        coverage_data.coverage_rows(run.coverage_path, target.abs_root, scanned) \
        if run.coverage_path else []
    data = table(name).from_rows(with_ident(rows, target.info().slug,
                                             warehouse.snapshot_commit()))
    yield from outputs(context, {name: data}, metadata)
    yield from completion(context, TEST_CHECKS[name], shared.healthy, metadata)


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
    mro = warehouse.has(*MRO_READS)
    linker = functools.cache(lambda: callgraph.repo_linker(warehouse.gateway(), slug))
    rows = pytest_report.resolve_test_goids(
        rows, definitions, (lambda cls, member: linker().defining(cls, member)) if mro else None)
    data = table(name).from_rows(with_ident(rows, slug, warehouse.snapshot_commit()))
    statuses = Counter(data.column("status").to_pylist())
    yield from outputs(context, {name: data},
                       {**metadata, "statuses": dg.MetadataValue.json(dict(statuses)),
                        "tests_without_goid": sum(r["test_goid"] is None for r in rows)})
    yield from completion(context, TEST_CHECKS[name], shared.healthy, metadata)


TEST_ASSETS = [coverage_ingest, tests_ingest]
