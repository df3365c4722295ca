"""Tools: every external program runs through its methods; the Dagster resource ToolService
(defs/resources.py) is this class as a resource, so tools/ stays Dagster-free.

One typed method per question (pyright, pyrefly and ruff diagnostics, the shared coverage +
pytest run, the SCIP index, git, the target's interpreter); callers get parsed rows, never raw
JSON or argv. Each method goes through one ToolRunner, which raises ToolNotFoundError (with an
install hint) for a missing executable and ToolExecutionError (argv, exit code, stderr tail) for
a crash. The per-tool exit-code policy lives in the tool's own module (tools/pyright.py, ...).

What the target breaks is data, not an exception: a configuration a static tool refuses, or a
timeout, comes back as a `StaticRun` whose status and reason say so (ruff then still lints with
its defaults); a test suite that crashes, collects nothing or times out comes back as a
`testrun.TestRun` with that status. What breaks in our installation (a tool missing, a tool
crash that is not attributable to the target's configuration) still raises.

The test run is the one tool that executes the target's code: `test_run_refusal` says when a
run started by automation must not run it, and `test_run_key` names the cached run a work tree
may reuse. The tool names and pins come from tools/registry.py.
"""

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from filelock import FileLock
from pydantic import BaseModel, Field, PrivateAttr

from codeintel_assets.tools import (
    automation,
    environment,
    git_history,
    glean_scip,
    pyrefly,
    pyright,
    pytest_ini,
    ruff,
    test_requirements,
    testimpact,
    testmerge,
    testrun,
    worktree,
)
from codeintel_assets.tools.environment import TargetPython
from codeintel_assets.tools.git import (
    RepoInfo,
    Tree,
    WorkTreeFiles,
    repo_info,
    tree,
    work_tree_files,
)
from codeintel_assets.tools.isolate import Culprit, ToolRows
from codeintel_assets.tools.registry import (
    PYREFLY,
    PYRIGHT,
    RUFF,
    SCIP,
    TESTS,
    TOOL_NAMES,
)
from codeintel_assets.tools.runner import (
    TargetCausedError,
    ToolRunner,
    ToolTimeoutError,
)
from codeintel_assets.tools.scip_index import ScipIndexResult, run_index

TOOLS = TOOL_NAMES  # re-exported for the CLI and the benchmark
_BIN = Path(sys.executable).parent

# StaticRun.status values
OK, CRASHED, CONFIG_ERROR, TIMED_OUT, DISABLED = (
    "ok", "crashed", "config_error", "timed_out", "disabled")


def _digest(parts: list) -> str:
    return hashlib.blake2b(json.dumps(parts, sort_keys=True).encode(), digest_size=16).hexdigest()


def _bin(name: str) -> str:
    """The executable installed next to this interpreter (the project's venv), else PATH."""
    path = _BIN / name
    return str(path) if path.exists() else name


@dataclass(frozen=True)
class TestRunKey:
    """digest: 32 hex digits naming the test run's folder; tree: the work tree's fingerprint
    that went into it (its method and entry count are logged); distributions: how many
    installed distributions of the target's interpreter went into it; environment: the digest
    of the parts that are not the tree (interpreter, distributions, pytest arguments, plugin
    pins, time limit): a selective run needs the previous run's to be equal."""

    __test__ = False  # not a pytest test class

    digest: str
    tree: worktree.TreeFingerprint
    distributions: int = 0
    environment: str = ""


@dataclass(frozen=True)
class StaticRun:
    """One static tool's run: analytics.diagnostics rows (without repo/commit/occurrence), and
    how it went. status: ok | crashed (the tool crashed on the `culprits`, found by bisection;
    every other file's rows are kept) | config_error (the target's configuration was refused) |
    timed_out | disabled; reason: why, with the tool's output tail; fallback: how rows were
    still produced despite a refused configuration (ruff --isolated), else ''; excluded: files
    the target's configuration of the tool leaves unchecked (ruff), None when not counted."""

    tool: str
    rows: list[dict] = field(default_factory=list)
    status: str = OK
    reason: str = ""
    fallback: str = ""
    culprits: list[Culprit] = field(default_factory=list)
    excluded: int | None = None

    @property
    def completed(self) -> bool:
        return self.status in (OK, DISABLED)


@dataclass(frozen=True)
class _Outcome:
    """How a static run went, when not plainly ok: StaticRun's status, reason and fallback."""

    status: str
    reason: str
    fallback: str = ""


def _finished(tool: str, found: ToolRows, outcome: _Outcome | None = None) -> StaticRun:
    """A StaticRun of `found`: `outcome` when given (a refused configuration wins over the
    crashes of the fallback run), else crashed when isolation found culprits, else ok."""
    if outcome is None and found.culprits:
        names = ", ".join(c.rel_path for c in found.culprits)
        outcome = _Outcome(CRASHED, f"{tool} crashed on {names} (isolated by bisection in "
                           f"{found.runs} runs; every other file's rows are kept)\n"
                           f"{found.culprits[0].reason}")
    outcome = outcome or _Outcome(OK, "")
    return StaticRun(tool, found.rows, outcome.status, outcome.reason, outcome.fallback,
                     found.culprits, found.excluded)


class ToolDisabledError(RuntimeError):
    """The tool is switched off in ToolService.enabled (defs/resources.py)."""


class Tools(BaseModel):
    """Runs pyright, pyrefly, ruff, coverage+pytest, scip-python and git for the assets: the
    fields are the `tools` resource's configuration (defs/resources.ToolService)."""

    enabled: list[str] = Field(
        default=list(TOOLS),
        description=f"Tools to run, of {list(TOOLS)}. A disabled tool's tables are written "
        "empty and their metadata says so. RUNNING THE TESTS ('tests') EXECUTES THE TARGET'S "
        "CODE: remove 'tests' for repositories you do not trust.",
    )
    timeout_s: float = Field(default=1800, description="Timeout of one tool call, seconds.")
    # Each tool's executable is named as the tool.
    pyright_path: str = Field(default_factory=lambda: _bin(PYRIGHT.name))
    pyrefly_path: str = Field(default_factory=lambda: _bin(PYREFLY.name))
    ruff_path: str = Field(default_factory=lambda: _bin(RUFF.name))
    test_timeout_s: float = Field(default=1800, description="Timeout of the test run, seconds.")
    pytest_args: list[str] = Field(default=[], description="Extra pytest arguments.")
    rerun_tests: bool = Field(default=False, description="Run the target's suite again even "
                              "when a run of the same key exists (CLI --rerun-tests); the new "
                              "results replace the old. Warehouse.full_rebuild does the same.")
    existing_coverage_file: str = Field(
        default="", description="A coverage.py data file (relative to the target) to ingest "
        "instead of running the tests.")
    existing_test_report: str = Field(
        default="", description="A pytest-json-report file (relative to the target) to ingest "
        "instead of running the tests.")
    max_selective_runs: int = Field(
        default=20, description="Selective test runs (only the tests a change can affect, "
        "tools/testimpact.py) in a row before a full one.")
    scip_node_heap_mb: int = Field(default=4096, description="Node heap for scip-python, MiB.")
    symbol_indexer: Literal["pyrefly", "scip-python"] = Field(
        "pyrefly", description=glean_scip.INDEXER_HELP)
    symbol_index_threads: int = Field(0, description=glean_scip.THREADS_HELP)
    _probes: environment.Probes = PrivateAttr(default_factory=environment.Probes)  # per run

    def runner(self) -> ToolRunner:
        return ToolRunner(default_timeout_s=self.timeout_s)

    def is_enabled(self, tool: str) -> bool:
        return tool in self.enabled

    def _require(self, tool: str) -> None:
        if not self.is_enabled(tool):
            raise ToolDisabledError(f"{tool} is disabled in ToolService.enabled")

    # ---- the target's interpreter ---------------------------------------------------------

    def target_python(self, root: str, configured: str = "") -> TargetPython:
        """The interpreter the target's code runs and type-checks against (see
        tools/environment.py for the order it is chosen in); probed once per run."""
        return self._probes.python(self.runner(), root, configured)

    def distributions(self, python: TargetPython) -> list[str]:
        """[sys.version, *sorted `name==version`] installed in `python` (one process, ~0.1-0.5
        s, once per run): what a type checker resolves imports against."""
        return self._probes.distributions(self.runner(), python)

    # ---- static analysis: rows of analytics.diagnostics without repo/commit/occurrence -------

    def pyright_diagnostics(self, root: str, files: list[str], python: TargetPython) -> StaticRun:
        return self._static(PYRIGHT.name, lambda: pyright.run(
            self.runner(), root, files, self.pyright_path, self.timeout_s, python.executable))

    def pyrefly_diagnostics(self, root: str, files: list[str], python: TargetPython) -> StaticRun:
        return self._static(PYREFLY.name, lambda: pyrefly.run(
            self.runner(), root, files, self.pyrefly_path, self.timeout_s, python.executable))

    def ruff_diagnostics(self, root: str, files: list[str]) -> StaticRun:
        def lint(isolated: bool = False) -> ToolRows:
            return ruff.run(self.runner(), root, files, self.ruff_path, self.timeout_s, isolated)
        how = "ruff --isolated (ruff's default rules, no configuration file)"
        return self._static(RUFF.name, lint, fallback=(how, lambda: lint(True)))

    def _static(self, tool: str, run: Callable[[], ToolRows],
                fallback: tuple[str, Callable[[], ToolRows]] | None = None) -> StaticRun:
        """`run()` as a StaticRun; when the target's configuration is refused, `fallback`
        (how, rerun) produces the rows anyway and says how."""
        if not self.is_enabled(tool):
            return StaticRun(tool, status=DISABLED, reason=f"{tool} is disabled in tools.enabled")
        try:
            return _finished(tool, run())
        except TargetCausedError as exc:
            reason = f"{exc.reason}\n{exc.stderr_tail}"
            if fallback is None:
                return StaticRun(tool, status=CONFIG_ERROR, reason=reason)
            how, rerun = fallback
            return _finished(tool, rerun(), _Outcome(CONFIG_ERROR, reason, how))
        except ToolTimeoutError as exc:
            return StaticRun(tool, status=TIMED_OUT, reason=f"{tool} {exc.reason} on the target")

    # ---- the shared test run --------------------------------------------------------------

    def test_run_refusal(self, tags: Mapping[str, str], opted_in: bool) -> str:
        """Why a run with these Dagster run `tags` must not run the target's suite, '' when it
        may. Running a suite executes the repository's code, so a run started by a sensor, a
        schedule, declarative automation or the Git hook (tools/automation.py) runs it only
        when the repository `opted_in` (TargetRepo.may_run_tests_unasked: its
        tests_on_push, or the fleet watch list's run_tests). Ingesting existing result files
        runs nothing, so it is never refused."""
        started_by = automation.automation_source(tags)
        if not started_by or opted_in or self.existing_coverage_file or \
                self.existing_test_report:
            return ""
        return (f"this run was started by {started_by} and the repository did not opt in "
                "(target.tests_on_push, or run_tests in the fleet's watch list)")

    def test_run_key(self, root: str, python: TargetPython, snapshot: str,
                     exclude: Sequence[str] = ()) -> TestRunKey:
        """The cache key of the test run of the work tree at `root`: everything that changes
        its result. `snapshot` is the scan's digest (core.file_state); the work tree's
        fingerprint adds what the scan skips (data files, a conftest.py it excludes, untracked
        files; tools/worktree.py, `exclude` = rel_paths left out, e.g. the warehouse folder),
        so the test configuration files (pytest.ini, tox.ini, setup.cfg, pyproject.toml,
        conftest.py) are in it whenever they are not git-ignored; then the interpreter (path,
        and its `sys.version`), every distribution installed in it (`name==version`, asked of
        the target's interpreter: `pip install pytest==8.3.5` in the target's venv runs the
        suite again), the pytest arguments, the versions of our pytest plugins
        (registry.TESTS) and the time limit (a suite that timed out is run again when the
        limit is raised)."""
        tree = worktree.fingerprint(root, self.runner(), exclude)
        installed = self.distributions(python)
        setting = [python.executable, python.version, installed, list(self.pytest_args),
                   TESTS.versions(), self.test_timeout_s]
        return TestRunKey(_digest([snapshot, tree.digest, *setting]), tree, len(installed) - 1,
                          _digest(setting))

    def unmet_test_requirements(self, root: str, python: TargetPython
                                ) -> list[test_requirements.Unmet]:
        """The test requirements the checkout at `root` declares that `python` does not
        satisfy (tools/test_requirements.py); asks the interpreter only when some are
        declared."""
        declared = test_requirements.declared(root, python.version)
        return test_requirements.unmet(declared, self.distributions(python)) if declared else []

    def test_run(self, root: str, workdir: str, python: TargetPython,
                 source_roots: list[str], request: testimpact.Request | None = None
                 ) -> "testrun.TestRun":
        """The coverage + pytest run of the target under `python`, once per snapshot.

        coverage_ingest and tests_ingest both call this; the first call runs the suite into
        `workdir` (a folder per `test_run_key`) and the second finds its results there (the
        TestRun's `cached` is then True), so the suite never runs twice for one key. With a
        `request`, the run is planned against the previous run's folder beside `workdir`
        (tools/testimpact.py: full, or only the tests the change can affect, at most
        `max_selective_runs` times in a row) and its effective results merged
        (tools/testmerge.py); without one, every test runs. The test plugins come from
        environment.plugin_overlay (nothing is installed into the target's environment) and
        testimpact.PLUGIN_DIR; under our own interpreter the target's `source_roots`
        (rel_paths, '' = root) go on PYTHONPATH so a `src/` layout imports. The
        interpreter's folder leads PATH, as in an activated environment. Ingests existing
        files instead when configured.
        """
        self._require(TESTS.name)
        if self.existing_coverage_file or self.existing_test_report:
            return testrun.existing_run(root, self.existing_coverage_file,
                                        self.existing_test_report)
        os.makedirs(workdir, exist_ok=True)
        with FileLock(os.path.join(workdir, ".lock")):
            found = testrun.load_run(workdir)
            if found is not None:
                return found
            chosen = testimpact.Plan(True, "every test (no selection asked)")
            if request is not None:
                key = self.test_run_key(root, python, "", request.exclude)
                chosen = testimpact.prepare(root, workdir, key.environment, key.tree.by_path,
                                            request, self.max_selective_runs)
            paths = [*environment.plugin_overlay(self.runner(), python), testimpact.PLUGIN_DIR]
            if python.is_own:
                paths += [os.path.join(root, r) if r else root for r in source_roots]
            # As an activated environment would: its scripts (mypy, a CLI under test) first.
            env = {"PYTHONPATH": os.pathsep.join(paths),
                   "PATH": os.pathsep.join([python.bin_dir, os.environ.get("PATH", "")])}
            done = testrun.run_tests(self.runner(), root, python.executable, workdir,
                                     self.test_timeout_s, [*testimpact.selection_args(
                                         chosen, workdir), *pytest_ini.declared_xdist(
                                         root, self.pytest_args,
                                         lambda: self.distributions(python)[1:]),
                                     *self.pytest_args], env=env)
            done = testmerge.effective(done, root, workdir, chosen,
                                       set(request.python_files) if request else None)
            Path(workdir, testrun.RUN_NAME).write_text(json.dumps(asdict(done)))
            return done

    # ---- SCIP ------------------------------------------------------------------------------

    def scip_index(self, root: str, output: str, project_name: str, project_version: str,
                   python: TargetPython, files: Sequence[str],
                   earlier: glean_scip.Earlier | None = None) -> ScipIndexResult:
        """The SCIP index of `files` at `output` by `symbol_indexer` (`earlier`: the index this
        updates). Raises ToolDisabledError when scip is off, else the indexer's errors."""
        self._require(SCIP.name)
        if self.symbol_indexer == glean_scip.INDEXER:
            return glean_scip.run_index(
                self.runner(), root, output, project_name, project_version, self.timeout_s,
                self.pyrefly_path, python.executable, files, self.symbol_index_threads, earlier)
        return run_index(self.runner(), root, output, project_name, project_version,
                         self.timeout_s, node_heap_mb=self.scip_node_heap_mb,
                         python_bin_dir=python.bin_dir, files=files)

    # ---- git -------------------------------------------------------------------------------

    def git_info(self, root: str) -> RepoInfo:
        return repo_info(root, self.runner())

    def git_files(self, root: str) -> WorkTreeFiles | None:
        """Tracked plus untracked-not-ignored files, and the ignored ones (tools/git.py
        work_tree_files); None when `root` is not the top of a Git checkout."""
        return work_tree_files(root, self.runner())

    def git_head(self, root: str, rev: str = "HEAD") -> git_history.Head | None:
        """The commit `rev` (the scanned commit)'s sha and committer time; None when `root`
        is not the top of a Git checkout (or git is missing), sha '' without a commit,
        `error` when git refused the repository (tools/git_history.head)."""
        return git_history.head(self.runner(), root, rev)

    def git_tree(self, root: str, rev: str) -> Tree:
        """The Python files and the submodules of the commit `rev` (tools/git.tree)."""
        return tree(self.runner(), root, rev, git_history.PY_SUFFIXES)

    def git_churn(self, root: str, rev: str, current: Sequence[str],
                  boundary: frozenset[str] = frozenset()) -> git_history.ChurnLog:
        """Per current Python path, every commit before `rev` that changed it (renames
        followed; a shallow clone's `boundary` commits left out) and its former names: one
        `git log --numstat --raw -M` pass (tools/git_history.churn_log)."""
        return git_history.churn_log(self.runner(), root, rev, current, boundary)

    def git_patch_logs(self, root: str, rev: str, names: Mapping[str, Sequence[str]]
                       ) -> dict[str, list[git_history.PatchCommit]]:
        """rel_path -> its patch log before `rev` (`git log -m -p -U0 -M` of its current and
        former `names`): one git process per file, one per core (at most four) at a time."""
        runner = self.runner()
        with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
            logs = pool.map(lambda p: git_history.patch_log(runner, root, rev, names[p]),
                            names)
            return dict(zip(names, logs))

    def git_worktree_diffs(self, root: str, rev: str, paths: Sequence[str]
                           ) -> dict[str, git_history.FileDiff]:
        """Of `paths`, those with uncommitted changes against the commit `rev` -> their -U0
        diff: one `git diff <rev>` (tools/git_history.worktree_diffs)."""
        return git_history.worktree_diffs(self.runner(), root, rev, paths)

    def git_touched_since(self, root: str, sha: str, rev: str) -> frozenset[str] | None:
        """Python paths the commits sha..rev changed; None when sha is not an ancestor."""
        return git_history.touched_since(self.runner(), root, sha, rev)
