"""testrun: one pytest run of the target under coverage, for coverage_lines and test_catalog.

`run_tests` starts the target's suite exactly once (through the ToolRunner) with pytest-cov's
per-test contexts and a pytest-json-report file; `coverage_data.coverage_rows` turns the coverage
data into `analytics.coverage_lines` rows and `pytest_report.test_rows` turns the report into
`analytics.test_catalog` rows. Both sides name a test by its pytest node id (pytest-cov records
`<nodeid>|setup`, `<nodeid>|run` and `<nodeid>|teardown`; the phase is stripped), so every
context in coverage_lines.contexts is a test_catalog.test_id of the same run. `existing_run`
points at a coverage data file and/or a report the target already has instead of running
anything.

Command (flags as named by pytest 9.2, pytest-cov 7.1 and pytest-json-report 1.5):

    <python> -m pytest -p pytest_cov -p pytest_jsonreport --rootdir=<root> -o addopts=
        -o log_file= -p no:cacheprovider --cov=<root> --cov-context=test --cov-report=
        --cov-config=<workdir>/coveragerc --json-report --json-report-file=<workdir>/report.json
        --json-report-omit streams log traceback warnings --continue-on-collection-errors -q
        <pytest_args...>

run with cwd=<root> and env COVERAGE_FILE=<workdir>/.coverage, PYTHONDONTWRITEBYTECODE=1
(no __pycache__ / assertion-rewrite .pyc in the target), PYTEST_ADDOPTS='' and
COVERAGE_PROCESS_START=''. Together with `-p no:cacheprovider` (no .pytest_cache, wherever
the target's `cache_dir` points), `-o log_file=` (the target's `log_file` ini setting would make
pytest write its log into the tree) and `--cov-report=` (no htmlcov/coverage.xml) nothing is
written into the target tree by the tools (the target's own tests may still write wherever they
like).

Policies:

- `-o addopts=` (default; `keep_addopts=True` keeps them): the target's ini addopts routinely
  carry `--cov=pkg`/`--cov-report=html` (writes into the tree), `--cov-fail-under` (changes the
  exit code), `-x`/`--maxfail` (stops the single run early), `-n auto` (xdist) or
  `--doctest-modules`; the run must be deterministic, so they are dropped. Options the suite
  really needs (`--import-mode=importlib`, `-p asyncio`) go in `pytest_args`. Plugins that
  are installed still load (entry-point autoload stays on) and ini keys other than addopts
  (testpaths, markers, python_files, pythonpath, filterwarnings) still apply.
- `--cov-config=<workdir>/coveragerc`: our own coverage configuration (line coverage,
  absolute paths, no plugins, default exclusions), so the target's [tool.coverage]/.coveragerc
  cannot redirect the data file, turn on `dynamic_context = test_function` (contexts that are
  not node ids), `fail_under`, `branch` or omit files. `coverage_rows` uses the same default
  exclusion rules, so is_executable matches what coverage.py would report for this run.
- `--rootdir=<root>`: node ids are relative to the target root even when a pytest.ini lives in
  a parent folder (test_rows still honours the report's `root` for ingested reports).
- `--continue-on-collection-errors`: a test file that fails to import/parse becomes an 'error'
  row (test_id = the collector's node id) and the other files' tests still run; without it pytest
  stops after collection with exit code 2 and no test runs.
- Exit codes: 0 (all passed) and 1 (some failed: a failing suite still yields its rows) mean
  the run completed. Everything else is the target's doing and comes back as the TestRun's
  status with a reason, never as an exception: 5 or nothing collected (no_tests), 2/3/4 after
  collecting tests (interrupted: the partial report's rows are kept), no report at all (crashed:
  a conftest or plugin error at start-up, an INTERNALERROR) and a timeout (timed_out). Only a
  test plugin that cannot be imported, which is our installation's fault, raises
  ToolNotFoundError.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from codeintel_assets.tools.pytest_report import collected, suite_problem
from codeintel_assets.tools.runner import (
    ToolNotFoundError,
    ToolRunner,
    ToolTimeoutError,
    tail,
)

RUN_NAME = "run.json"
REPORT_NAME = "report.json"
COVERAGE_NAME = ".coverage"
COVERAGE_RC_NAME = "coveragerc"
_PLUGIN_HINT = "install pytest, pytest-cov and pytest-json-report in the target's interpreter"


# TestRun.status values: the suite ran (failing tests included), or what the target did instead.
COMPLETED = "completed"
NO_TESTS = "no_tests"  # exit code 5, or nothing collected
INTERRUPTED = "interrupted"  # exit code 2-4 after tests were collected: the rows that exist
CRASHED = "crashed"  # no report: conftest or plugin error at start-up, INTERNALERROR
TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class TestRun:
    """One finished run. `coverage_path` is None when coverage.py wrote no data file and
    `report_path` '' when pytest wrote no report; `status` (see COMPLETED...) and `reason` (the
    exit code and output tail when the target broke the run, else '') say how it went;
    `cached` that ToolService.test_run found it in its workdir instead of running the suite;
    `problem` why a completed suite is still no evidence (pytest_report.suite_problem: most
    tests errored, or none passed), else ''."""

    __test__ = False  # not a pytest test class

    returncode: int | None
    wall_s: float
    coverage_path: str | None
    report_path: str
    argv: tuple[str, ...] = ()
    status: str = COMPLETED
    reason: str = ""
    cached: bool = False  # reused from an earlier step or run of the same key, not run now
    problem: str = ""
    # The effective results (tools/testmerge.py): coverage rows, and how the run was chosen
    # (tools/testimpact.py: 'full' | 'selected', '' for ingested files), why, and how many
    # tests it executed of how many it collected (None when not known).
    lines_path: str = ""
    test_selection: str = ""
    selection_reason: str = ""
    tests_executed: int | None = None
    tests_collected: int | None = None

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED

    @property
    def healthy(self) -> bool:
        """Completed, and its results say something about the code (see `problem`)."""
        return self.completed and not self.problem


def load_run(folder: str) -> TestRun | None:
    """The TestRun saved in `folder`'s run.json (ToolService.test_run), None without one."""
    try:
        with open(os.path.join(folder, RUN_NAME), encoding="utf-8") as fh:
            saved = json.load(fh)
        return TestRun(**{**saved, "argv": tuple(saved["argv"]), "cached": True})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def pytest_argv(root: str, python: str, workdir: str, pytest_args: Sequence[str] = (),
                keep_addopts: bool = False) -> list[str]:
    """The argv of the single test run (see the module docstring)."""
    argv = [python, "-m", "pytest", "-p", "pytest_cov", "-p", "pytest_jsonreport",
            f"--rootdir={root}"]
    if not keep_addopts:
        argv += ["-o", "addopts="]
    argv += ["-o", "log_file=", "-p", "no:cacheprovider",
             f"--cov={root}", "--cov-context=test", "--cov-report=",
             f"--cov-config={os.path.join(workdir, COVERAGE_RC_NAME)}",
             "--json-report", f"--json-report-file={os.path.join(workdir, REPORT_NAME)}",
             "--json-report-omit", "streams", "log", "traceback", "warnings",
             "--continue-on-collection-errors", "-q", *pytest_args]
    return argv


def run_tests(runner: ToolRunner, root: str, python: str, workdir: str, timeout_s: float,
              pytest_args: Sequence[str] = (), *, keep_addopts: bool = False,
              env: Mapping[str, str] | None = None) -> TestRun:
    """Run the target's suite once under coverage with per-test contexts and a JSON report.

    `python` is the interpreter of the target's environment; pytest, pytest-cov and
    pytest-json-report must be importable there (installed, or on PYTHONPATH through `env`:
    tools/environment.py's overlay). `workdir` receives report.json, .coverage and coveragerc
    (stale ones are removed first). `env` adds environment variables for the run.

    What the target breaks is returned, not raised: a suite that crashes at start-up, collects
    nothing, stops early or times out gives a TestRun whose status says so, with the reason and
    the files that exist. A plugin that cannot be imported (our installation) raises
    ToolNotFoundError; a missing interpreter raises ToolNotFoundError from the runner.
    """
    root = os.path.abspath(root)
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    report_path = os.path.join(workdir, REPORT_NAME)
    coverage_path = os.path.join(workdir, COVERAGE_NAME)
    for name in os.listdir(workdir):
        if name == REPORT_NAME or name == COVERAGE_NAME or name.startswith(COVERAGE_NAME + "."):
            os.remove(os.path.join(workdir, name))
    with open(os.path.join(workdir, COVERAGE_RC_NAME), "w", encoding="utf-8") as fh:
        fh.write(f"[run]\ndata_file = {coverage_path}\nbranch = False\nrelative_files = False\n"
                 "parallel = False\n")
    argv = pytest_argv(root, python, workdir, pytest_args, keep_addopts)
    run_env = {"COVERAGE_FILE": coverage_path, "PYTHONDONTWRITEBYTECODE": "1",
               "PYTEST_ADDOPTS": "", "COVERAGE_PROCESS_START": "", **(env or {})}

    def finished(rc: int | None, wall_s: float, status: str, reason: str = "") -> TestRun:
        return TestRun(rc, wall_s, coverage_path if os.path.exists(coverage_path) else None,
                       report_path if os.path.exists(report_path) else "", tuple(argv),
                       status, reason,
                       problem=suite_problem(report_path, root) if status == COMPLETED else "")

    started = time.perf_counter()
    try:
        result = runner.run(argv, cwd=root, env=run_env, timeout_s=timeout_s,
                            ok_codes=range(-256, 256))
    except ToolTimeoutError as exc:
        return finished(None, time.perf_counter() - started, TIMED_OUT,
                        f"the test suite ran past the timeout of {timeout_s:.0f}s\n"
                        f"{exc.stderr_tail}".strip())
    rc, output = result.returncode, tail(result.stderr or result.stdout)
    tests = collected(report_path)
    if tests is None:
        missing = re.search(r"No module named '?(pytest_cov|pytest_jsonreport|pytest)\b",
                            result.stderr + result.stdout)
        if missing:
            raise ToolNotFoundError(missing.group(1), _PLUGIN_HINT)
        return finished(rc, result.wall_s, CRASHED,
                        f"pytest exited with code {rc} before writing its report:\n{output}")
    if rc == 5 or not tests:
        return finished(rc, result.wall_s, NO_TESTS,
                        f"pytest collected no tests (exit code {rc})\n{output}".strip())
    if rc not in (0, 1):
        return finished(rc, result.wall_s, INTERRUPTED,
                        f"pytest stopped with exit code {rc} after collecting {tests} "
                        f"tests:\n{output}")
    return finished(rc, result.wall_s, COMPLETED)


def existing_run(root: str, coverage_file: str | None, report_file: str | None) -> TestRun:
    """A TestRun for result files the target already has (nothing is run).

    Paths are relative to `root` unless absolute; one that is unset or missing gives no rows
    for its table (coverage_path None, report_path ''). The contexts are whatever the data
    file recorded: pytest-cov's `|setup/|run/|teardown` suffixes are stripped by
    `coverage_rows`, other contexts are kept as they are, so they need not match test ids.
    """
    def resolve(path: str | None) -> str | None:
        if not path:
            return None
        path = path if os.path.isabs(path) else os.path.join(root, path)
        return path if os.path.exists(path) else None

    report = resolve(report_file) or ""
    return TestRun(0, 0.0, resolve(coverage_file), report,
                   problem=suite_problem(report, root) if report else "")
