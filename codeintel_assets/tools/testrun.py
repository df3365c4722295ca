"""testrun: one pytest run of the target under coverage, read into coverage_lines/test_catalog.

`run_tests` starts the target's suite exactly once (through the ToolRunner) with pytest-cov's
per-test contexts and a pytest-json-report file; `coverage_rows` turns the coverage data into
`analytics.coverage_lines` rows and `test_rows` turns the report into `analytics.test_catalog`
rows. Both sides name a test by its pytest node id (pytest-cov records `<nodeid>|setup`,
`<nodeid>|run` and `<nodeid>|teardown`; the phase is stripped), so every context in
coverage_lines.contexts is a test_catalog.test_id of the same run. `ingest_existing` reads a
coverage data file and/or a report the target already has instead of running anything.

Command (flags as named by pytest 9.2, pytest-cov 7.1 and pytest-json-report 1.5):

    <python> -m pytest -p pytest_cov -p pytest_jsonreport --rootdir=<root> -o addopts=
        -p no:cacheprovider --cov=<root> --cov-context=test --cov-report=
        --cov-config=<workdir>/coveragerc --json-report --json-report-file=<workdir>/report.json
        --json-report-omit streams log traceback warnings --continue-on-collection-errors -q
        <pytest_args...>

run with cwd=<root> and env COVERAGE_FILE=<workdir>/.coverage, PYTHONDONTWRITEBYTECODE=1
(no __pycache__ / assertion-rewrite .pyc in the target), PYTEST_ADDOPTS='' and
COVERAGE_PROCESS_START=''. Together with `-p no:cacheprovider` (no .pytest_cache) and
`--cov-report=` (no htmlcov/coverage.xml) nothing is written into the target tree by the tools
(the target's own tests may still write wherever they like).

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

import ast
import json
import os
import posixpath
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import coverage
from coverage.parser import PythonParser

from codeintel_assets.extract.goids import goid
from codeintel_assets.extract.pysource import read_python, walk
from codeintel_assets.extract.scan import module_names
from codeintel_assets.tools.runner import (
    ToolNotFoundError,
    ToolRunner,
    ToolTimeoutError,
    tail,
)

REPORT_NAME = "report.json"
COVERAGE_NAME = ".coverage"
COVERAGE_RC_NAME = "coveragerc"
_PHASES = ("setup", "run", "teardown")
_STATUSES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
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
    exit code and output tail when the target broke the run, else '') say how it went."""

    __test__ = False  # not a pytest test class

    returncode: int | None
    wall_s: float
    coverage_path: str | None
    report_path: str
    argv: tuple[str, ...] = ()
    status: str = COMPLETED
    reason: str = ""

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED


def pytest_argv(root: str, python: str, workdir: str, pytest_args: Sequence[str] = (),
                keep_addopts: bool = False) -> list[str]:
    """The argv of the single test run (see the module docstring)."""
    argv = [python, "-m", "pytest", "-p", "pytest_cov", "-p", "pytest_jsonreport",
            f"--rootdir={root}"]
    if not keep_addopts:
        argv += ["-o", "addopts="]
    argv += ["-p", "no:cacheprovider",
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
                       status, reason)

    started = time.perf_counter()
    try:
        result = runner.run(argv, cwd=root, env=run_env, timeout_s=timeout_s,
                            ok_codes=range(-256, 256))
    except ToolTimeoutError as exc:
        return finished(None, time.perf_counter() - started, TIMED_OUT,
                        f"the test suite ran past the timeout of {timeout_s:.0f}s\n"
                        f"{exc.stderr_tail}".strip())
    rc, output = result.returncode, tail(result.stderr or result.stdout)
    report = _load_report(report_path)
    if report is None:
        missing = re.search(r"No module named '?(pytest_cov|pytest_jsonreport|pytest)\b",
                            result.stderr + result.stdout)
        if missing:
            raise ToolNotFoundError(missing.group(1), _PLUGIN_HINT)
        return finished(rc, result.wall_s, CRASHED,
                        f"pytest exited with code {rc} before writing its report:\n{output}")
    collected = report.get("summary", {}).get("collected", 0) or len(report.get("tests", []))
    if rc == 5 or not collected:
        return finished(rc, result.wall_s, NO_TESTS,
                        f"pytest collected no tests (exit code {rc})\n{output}".strip())
    if rc not in (0, 1):
        return finished(rc, result.wall_s, INTERRUPTED,
                        f"pytest stopped with exit code {rc} after collecting {collected} "
                        f"tests:\n{output}")
    return finished(rc, result.wall_s, COMPLETED)


def _load_report(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


# --- coverage data -> analytics.coverage_lines ----------------------------------------------

def context_test_id(context: str) -> str:
    """pytest-cov's `<nodeid>|<phase>` -> `<nodeid>`; other contexts are kept as they are."""
    nodeid, sep, phase = context.rpartition("|")
    return nodeid if sep and phase in _PHASES else context


def _rel_to_root(path: str, root: str) -> str | None:
    """POSIX path of `path` relative to `root`, or None when it is outside."""
    if not os.path.isabs(path):
        path = os.path.join(root, path)
    for base in (os.path.realpath(root), os.path.abspath(root)):
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            rel = os.path.relpath(candidate, base)
            if rel != os.pardir and not rel.startswith(os.pardir + os.sep) and rel != ".":
                return rel.replace(os.sep, "/")
    return None


def _exclude_regex() -> str:
    rules = coverage.Coverage(config_file=False).get_option("report:exclude_lines")
    rules = rules if isinstance(rules, list) else []
    return "|".join(f"(?:{rule})" for rule in rules)


def _parse(path: str, exclude: str) -> PythonParser | None:
    try:
        parser = PythonParser(filename=path, exclude=exclude or None)
        parser.parse_source()
    except Exception:  # noqa: BLE001 - unparsable or unreadable: fall back to executed lines
        return None
    return parser


def coverage_rows(coverage_path: str, root: str, scanned: set[str] | None = None, *,
                  include_unmeasured: bool = False) -> list[dict]:
    """analytics.coverage_lines rows (without repo/commit) of a coverage.py data file.

    One row per line that coverage.py counts as a statement or that ran, for each measured file
    under `root` (and in `scanned`, when given). Raw line numbers are mapped to the first line
    of their statement as coverage.py's reports do. `hits` = `context_count` = the number of
    distinct test node ids that ran the line: coverage.py records which contexts ran a line,
    never how often. The empty context (code run outside any test: imports, collection,
    session fixtures) marks a line covered without adding a context. A line excluded by
    coverage.py's default rules (`pragma: no cover`, `if TYPE_CHECKING:`, `...` bodies) is not
    executable; if it ran anyway it is still reported, covered. With `include_unmeasured`
    (needs `scanned`), scanned Python files coverage.py never saw (not imported, and not in a
    package directory it searched) add their statements as not covered.
    """
    if not os.path.exists(coverage_path):
        raise FileNotFoundError(coverage_path)
    data = coverage.CoverageData(basename=coverage_path)
    data.read()
    exclude = _exclude_regex()
    rows: list[dict] = []
    seen: set[str] = set()
    for measured in sorted(data.measured_files()):
        rel = _rel_to_root(measured, root)
        if rel is None or (scanned is not None and rel not in scanned) or rel in seen:
            continue
        seen.add(rel)
        abs_path = measured if os.path.isabs(measured) else os.path.join(root, measured)
        parser = _parse(abs_path, exclude)
        by_line: dict[int, set[str]] = {}
        for lineno, contexts in (data.contexts_by_lineno(measured) or {}).items():
            if lineno <= 0:
                continue
            line = parser.first_line(lineno) if parser is not None else lineno
            by_line.setdefault(line, set()).update(contexts)
        statements = set(parser.statements) if parser is not None else set(by_line)
        rows.extend(_line_rows(rel, statements, by_line))
    if include_unmeasured and scanned is not None:
        for rel in sorted(scanned - seen):
            if not rel.endswith(".py"):
                continue
            parser = _parse(os.path.join(root, rel), exclude)
            if parser is not None:
                rows.extend(_line_rows(rel, set(parser.statements), {}))
    return rows


def _line_rows(rel: str, statements: set[int], by_line: dict[int, set[str]]) -> list[dict]:
    rows = []
    for line in sorted(statements | set(by_line)):
        ran = line in by_line
        tests = sorted({context_test_id(c) for c in by_line.get(line, ()) if c})
        rows.append({"rel_path": rel, "line": line, "is_executable": line in statements,
                     "is_covered": ran, "hits": len(tests), "context_count": len(tests),
                     "contexts": json.dumps(tests)})
    return rows


# --- pytest-json-report -> analytics.test_catalog ---------------------------------------------

def split_nodeid(nodeid: str) -> tuple[str, list[str], str | None]:
    """`tests/t.py::TestX::test_y[a-b]` -> ('tests/t.py', ['TestX', 'test_y'], 'a-b')."""
    file_part, _, rest = nodeid.partition("::")
    param = None
    if "[" in rest and rest.endswith("]"):
        rest, _, param = rest.partition("[")
        param = param[:-1]
    return file_part, [n for n in rest.split("::") if n], param


def _module_of(rel_path: str, root: str, module_of: Mapping[str, str]) -> str | None:
    if rel_path in module_of:
        return module_of[rel_path]
    if not rel_path.endswith((".py", ".pyi")):
        return None
    # Not given: apply module_names' rule to the file and the __init__.py files above it.
    paths = [rel_path]
    directory = posixpath.dirname(rel_path)
    while directory:
        init = f"{directory}/__init__.py"
        if os.path.exists(os.path.join(root, init)):
            paths.append(init)
        directory = posixpath.dirname(directory)
    return module_names(paths)[rel_path][0]


def _defs_of(abs_path: str, module: str) -> dict[str, tuple[str, str]]:
    """base qualname -> (qualname with `#N` of the last definition, kind) for the file's defs:
    pytest collects the last definition of a name, which pysource numbers `name#N`."""
    try:
        tree = ast.parse(read_python(abs_path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    out = {}
    for visit in walk(tree, module):
        if visit.qualname and visit.kind in ("function", "method", "class"):
            out[visit.qualname.split("#", 1)[0]] = (visit.qualname, visit.kind)
    return out


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return None


def _failure_message(stage: Mapping) -> str | None:
    crash = stage.get("crash") or {}
    if crash.get("message"):
        return _first_line(crash["message"])
    return _longrepr_message(stage.get("longrepr"))


def _longrepr_message(longrepr) -> str | None:
    if not longrepr:
        return None
    text = str(longrepr)
    e_lines = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    e_lines = [ln for ln in e_lines if ln]
    if e_lines:
        return e_lines[-1]
    return _first_line(text)


def _skip_reason(longrepr) -> str | None:
    """pytest-json-report stores a skip as str(('path', lineno, 'Skipped: reason'))."""
    if not longrepr:
        return None
    text = str(longrepr)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, tuple) and len(value) == 3:
        text = str(value[2])
    text = _first_line(text) or ""
    return text.removeprefix("Skipped: ") or None


def _status(test: Mapping) -> str:
    stages = [test.get(s) or {} for s in ("setup", "call", "teardown")]
    if any(st.get("outcome") == "failed" for st in (stages[0], stages[2])):
        return "error"
    outcome = test.get("outcome", "")
    if outcome in _STATUSES:
        return outcome
    return "failed" if stages[1].get("outcome") == "failed" else "passed"


def _message(test: Mapping, status: str) -> str | None:
    stages = [test.get(s) or {} for s in ("setup", "call", "teardown")]
    if status in ("passed", "xpassed"):
        return None
    if status == "skipped":
        for stage in stages:
            if stage.get("outcome") == "skipped":
                return _skip_reason(stage.get("longrepr"))
        return None
    for stage in stages:  # failed / error / xfailed: the first stage that did not pass
        if stage.get("outcome") in ("failed", "skipped") and (
                stage.get("crash") or stage.get("longrepr")):
            return _failure_message(stage)
    return None


def _markers(keywords: Iterable[str], file_part: str, names: list[str], param: str | None,
             report_root: str) -> list[str]:
    """Marker names among a test's pytest keywords.

    pytest's keywords mix marker names with the names of the test's nodes (path components,
    class names, the test name with and without its parameter id), the parameter id, attributes
    of the test function (`pytestmark`, dunders) and the session name (rootdir basename or '').
    Markers are what remains: identifiers, not starting with '_', not 'pytestmark', and not one
    of those node names or parameter ids (nor a '-' part of the id). A marker whose name equals
    a path component, class or parameter id of its own test is therefore not reported.
    """
    drop = {"pytestmark", posixpath.basename(report_root.rstrip("/\\")) if report_root else ""}
    drop.update(p for p in file_part.split("/") if p)
    drop.update(names)
    if param is not None:
        drop.add(f"{names[-1]}[{param}]" if names else param)
        drop.add(param)
        drop.update(param.split("-"))
    return sorted({k for k in keywords
                   if isinstance(k, str) and k.isidentifier() and not k.startswith("_")
                   and k not in drop})


def test_rows(report_path: str, root: str, module_of: Mapping[str, str], repo: str) -> list[dict]:
    """analytics.test_catalog rows (without repo/commit) of a pytest-json-report file.

    - test_id: the node id as pytest wrote it (relative to the report's `root`, the rootdir);
      rel_path: its file part relative to `root`.
    - qualname: `module_of[rel_path]` (else module_names' rule applied to the file) + the
      `::`-joined names with the parameter id removed (`pkg.tests.test_a.TestX.test_y`); when
      the file defines that name more than once, the `#N` of the last definition (the one pytest
      collects) as pysource numbers it. test_goid = goid(repo, 'python', rel_path, kind, qualname)
      with kind 'method' for a test inside a class, else 'function' (an inherited test gets the
      GOID of a def that does not exist: the caller's cross-check against core.goids NULLs it).
      A doctest item (`pkg/m.py::pkg.m.C.f`, with --doctest-modules) already carries the dotted
      name: it is the qualname, and the kind (module/class/function/method) is the def's.
    - status: passed | failed | skipped | xfailed | xpassed | error (an exception in setup or
      teardown is 'error'); duration_ms: setup + call + teardown; markers: see `_markers`;
      flaky: a 'flaky' marker, a 'rerun' outcome, or the node id reported more than once;
      message: first line of the crash message / last `E` line of the longrepr, or the skip
      reason; None for passed/xpassed.
    - a collector that failed (import or syntax error in a test file) is an 'error' row whose
      test_id is the collector's node id; its qualname/test_goid are the module's.
    Rows are unique by test_id (the last report entry wins).
    """
    report = _load_report(report_path)
    if report is None:
        raise FileNotFoundError(report_path)
    report_root = report.get("root") or root
    rows: dict[str, dict] = {}
    defs_cache: dict[str, dict[str, tuple[str, str]]] = {}

    def locate(file_part: str) -> tuple[str, str | None]:
        rel = _rel_to_root(os.path.join(report_root, file_part), root) if file_part else None
        rel = rel if rel is not None else file_part
        return rel, _module_of(rel, root, module_of)

    def defs(rel: str, module: str) -> dict[str, tuple[str, str]]:
        if rel not in defs_cache:
            abs_path = os.path.join(root, rel)
            defs_cache[rel] = _defs_of(abs_path, module) if rel.endswith(".py") else {}
        return defs_cache[rel]

    for test in report.get("tests", []):
        nodeid = test["nodeid"]
        file_part, names, param = split_nodeid(nodeid)
        rel, module = locate(file_part)
        base = ".".join(names)
        kind = "method" if len(names) > 1 else "function"
        if module is not None and base:
            base = base if base == module or base.startswith(module + ".") else f"{module}.{base}"
            qualname, kind = defs(rel, module).get(base, (base, kind))
            if base == module:  # a module-level doctest item (`pkg/m.py::pkg.m`)
                kind = "module"
            elif kind not in ("function", "method"):  # a doctest of a class
                kind = "class"
            test_goid = goid(repo, "python", rel, kind, qualname)
        else:
            qualname, test_goid = base or None, None
        status = _status(test)
        markers = _markers(test.get("keywords") or [], file_part, names, param, report_root)
        stage_outcomes = [(test.get(s) or {}).get("outcome") for s in ("setup", "call", "teardown")]
        flaky = ("flaky" in markers or "rerun" in stage_outcomes or test.get("outcome") == "rerun"
                 or nodeid in rows)
        duration = sum(float((test.get(s) or {}).get("duration") or 0.0)
                       for s in ("setup", "call", "teardown"))
        rows[nodeid] = {
            "test_id": nodeid, "rel_path": rel, "qualname": qualname, "test_goid": test_goid,
            "kind": "parametrized_case" if param is not None else "function",
            "status": status, "duration_ms": duration * 1000.0,
            "markers": json.dumps(markers), "parametrized": param is not None,
            "flaky": flaky, "message": _message(test, status),
        }
    for collector in report.get("collectors", []):
        if collector.get("outcome") != "failed":
            continue
        nodeid = collector.get("nodeid", "")
        file_part, names, _ = split_nodeid(nodeid)
        rel, module = locate(file_part)
        qualname = module if module is not None else None
        if qualname is not None and names:
            qualname = ".".join([qualname, *names])
        test_goid = (goid(repo, "python", rel, "class" if names else "module", qualname)
                     if qualname is not None else None)
        rows.setdefault(nodeid, {
            "test_id": nodeid, "rel_path": rel, "qualname": qualname, "test_goid": test_goid,
            "kind": "function", "status": "error", "duration_ms": 0.0, "markers": "[]",
            "parametrized": False, "flaky": False,
            "message": _longrepr_message(collector.get("longrepr")),
        })
    return list(rows.values())


setattr(test_rows, "__test__", False)  # noqa: B010 - a library function, not a pytest test


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

    return TestRun(0, 0.0, resolve(coverage_file), resolve(report_file) or "")
