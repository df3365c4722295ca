"""coverage.py data -> analytics.coverage_lines rows, as coverage.py's own report counts them.

The data file of the shared test run (tools/testrun.py) records, per line, the pytest-cov
contexts that ran it: `<nodeid>|setup`, `<nodeid>|run`, `<nodeid>|teardown`. `coverage_rows`
strips the phase, so every context in coverage_lines.contexts is an analytics.test_catalog
test_id of the same run.

The run itself measures the whole checkout under our own run configuration (testrun.py says
why); what counts is decided here, by the target's coverage configuration read with
coverage.py's own reader (`target_settings`: `.coveragerc`, `.coveragerc.toml`, setup.cfg,
tox.ini or pyproject.toml at the root, the first with coverage settings, as coverage.py looks
for them), so the rows equal `coverage json` of the suite run by hand with that configuration:

- files: the measured files under `[run] source` (directories, or packages named in `source` /
  `source_pkgs`), less `[run] omit`, within `[run] include`, then `[report] include/omit`;
  plus the files coverage.py finds under those sources that never ran
  (`coverage.files.find_python_files`: package directories, or every directory with
  `include_namespace_packages`), as not covered. With no source set, as `coverage run`
  without one: the files that ran (a module nothing imported has no rows, as in its report);
- lines: coverage.py's analysis of each file (`Coverage.analysis2`) with the target's
  `exclude_lines` / `exclude_also`: one row per statement (is_executable, is_covered when it
  ran) and per excluded line (neither: coverage.py reports it as excluded). A line that ran but
  is no statement (a docstring, an `@overload` signature excluded by coverage.py's default
  rules) is not covered: coverage.py does not count it.

Raw line numbers of contexts are mapped to their statement's first line as coverage.py's reports
do (`FileReporter.translate_lines`). `hits` = `context_count` = the number of distinct test node
ids that ran the line: coverage.py records which contexts ran a line, never how often. The empty
context (code run outside any test: imports, collection, session fixtures) marks a line covered
without adding a context. No dagster import; reads files only, runs nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import coverage
from coverage.config import CoverageConfig
from coverage.exceptions import CoverageException
from coverage.files import GlobMatcher, find_python_files
from coverage.python import PythonFileReporter

from codeintel_assets.paths import RootPaths

_PHASES = ("setup", "run", "teardown")
# Where coverage.py looks for its configuration, in order, and whether the file is coverage's
# own (`[run]`) or shared (`[coverage:run]`, `[tool.coverage.run]`): config.config_files_to_try.
CONFIG_FILES = ((".coveragerc", True), (".coveragerc.toml", True), ("setup.cfg", False),
                ("tox.ini", False), ("pyproject.toml", False))


def context_test_id(context: str) -> str:
    """pytest-cov's `<nodeid>|<phase>` -> `<nodeid>`; other contexts are kept as they are."""
    nodeid, sep, phase = context.rpartition("|")
    return nodeid if sep and phase in _PHASES else context


@dataclass(frozen=True)
class TargetCoverage:
    """The target's coverage configuration: `config` as coverage.py read it (its defaults when
    the target has none) and `config_file`, the file it came from ('' for none)."""
    config: CoverageConfig
    config_file: str


def target_settings(root: str) -> TargetCoverage:
    """The coverage configuration of the checkout at `root` (see the module docstring). A file
    coverage.py cannot parse is read as no configuration, as the test run's own configuration
    keeps it from mattering to the run; its name is in `config_file` with a '!' prefix."""
    for name, ours in CONFIG_FILES:
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        config = CoverageConfig()
        try:
            found = config.from_file(path, warn=lambda _msg: None, our_file=ours)
        except CoverageException:
            return TargetCoverage(_defaults(), f"!{name}")
        if found:
            config.post_process()
            return TargetCoverage(config, name)
    return TargetCoverage(_defaults(), "")


def _defaults() -> CoverageConfig:
    config = CoverageConfig()
    config.post_process()
    return config


def coverage_rows(coverage_path: str, root: str, scanned: set[str] | None = None,
                  settings: TargetCoverage | None = None) -> list[dict]:
    """analytics.coverage_lines rows (without repo/commit) of a coverage.py data file, for the
    files the target's coverage configuration reports (module docstring), restricted to
    `scanned` rel_paths when given; `settings` defaults to `target_settings(root)`. Raises
    FileNotFoundError when the data file does not exist."""
    if not os.path.exists(coverage_path):
        raise FileNotFoundError(coverage_path)
    settings = settings or target_settings(root)
    root = os.path.abspath(root)
    # Our own settings read the data (absolute paths, whatever the target's relative_files
    # says); the exclusion rules of the analysis are the target's.
    cov = coverage.Coverage(data_file=coverage_path, config_file=False)
    cov.config.exclude_list = list(settings.config.exclude_list)
    cov.config.partial_list = list(settings.config.partial_list)
    cov.load()
    data = cov.get_data()
    paths = RootPaths(root)
    measured, ran = {}, set()
    for path in data.measured_files():
        rel = paths.rel(path)
        if rel is not None:
            measured.setdefault(rel, path if os.path.isabs(path) else os.path.join(root, path))
            if data.lines(path):
                ran.add(rel)
    chosen = _reported(settings.config, root, measured, ran, set(measured) | (scanned or set()))
    rows: list[dict] = []
    for rel in sorted(chosen):
        if scanned is not None and rel not in scanned:
            continue
        rows.extend(_file_rows(cov, data, rel, chosen[rel], measured.get(rel)))
    return rows


def _reported(config: CoverageConfig, root: str, measured: Mapping[str, str], ran: set[str],
              known: set[str]) -> dict[str, str]:
    """rel_path -> absolute path of the files coverage.py would report: measured files within
    the source, include and omit settings, plus the never-run files found under the source;
    with no source, the files that ran (`ran`: coverage.py touches never-run files only for
    a source, and our run's `--cov=<root>` is one the target did not set). `known`:
    rel_paths of the checkout's Python files, to find the packages named."""
    sources = _source_dirs(config, root, known)
    candidates = dict(measured) if sources is not None else \
        {rel: path for rel, path in measured.items() if rel in ran}
    for folder in sources or ():
        for path in find_python_files(folder, config.include_namespace_packages):
            candidates.setdefault(os.path.relpath(path, root).replace(os.sep, "/"), path)
    run_include = _matcher(config.run_include, root)
    run_omit = _matcher(config.run_omit, root)
    report_include = _matcher(config.report_include or [], root)
    report_omit = _matcher(config.report_omit or [], root)
    out = {}
    for rel, path in candidates.items():
        if sources is not None and not any(_under(path, s) for s in sources):
            continue
        if run_include and not run_include.match(path) or run_omit and run_omit.match(path):
            continue
        if report_include and not report_include.match(path) or \
                report_omit and report_omit.match(path):
            continue
        out[rel] = path
    return out


def _source_dirs(config: CoverageConfig, root: str, known: set[str]) -> list[str] | None:
    """Directories (or single module files) `source` and `source_pkgs` name; None when
    neither is set (the whole checkout is measured). A `source` entry that is no directory,
    and a `source_pkgs` entry, is a package name (coverage.py imports it): the shallowest of
    the `known` files that is `pkg/sub/__init__.py` or `pkg/sub.py` (at the root or under a
    source root such as `src/`); a name the checkout does not define measures nothing."""
    named = list(config.source or []) + list(config.source_pkgs or [])
    if not named:
        return None
    out = []
    for item in named:
        folder = os.path.join(root, item)
        if item in (config.source or []) and os.path.isdir(folder):
            out.append(os.path.abspath(folder))
            continue
        tail = item.replace(".", "/")
        found = sorted((r for r in known if r in (f"{tail}/__init__.py", f"{tail}.py")
                        or r.endswith((f"/{tail}/__init__.py", f"/{tail}.py"))),
                       key=lambda r: (r.count("/"), r))
        if found:
            path = os.path.join(root, found[0])
            out.append(os.path.dirname(path) if found[0].endswith("__init__.py") else path)
    return out


def _under(path: str, source: str) -> bool:
    return path == source or path.startswith(source.rstrip(os.sep) + os.sep)


def _matcher(patterns: Iterable[str], root: str) -> GlobMatcher | None:
    """coverage.py's file patterns (files.prep_patterns), relative ones against `root`
    instead of the current directory."""
    prepped = []
    for p in patterns:
        prepped.append(p)
        if not p.startswith(("*", "?")):
            prepped.append(os.path.join(root, p))
    return GlobMatcher(prepped, "patterns") if prepped else None


def _file_rows(cov: coverage.Coverage, data: coverage.CoverageData, rel: str, path: str,
               measured_as: str | None) -> list[dict]:
    try:
        _, statements, excluded, missing, _ = cov.analysis2(path)
        reporter = PythonFileReporter(path, cov)
        by_line: dict[int, set[str]] = {}
        for lineno, contexts in ((data.contexts_by_lineno(measured_as) or {}).items()
                                 if measured_as else ()):
            for line in reporter.translate_lines([lineno]) if lineno > 0 else ():
                by_line.setdefault(line, set()).update(contexts)
    except (CoverageException, OSError, SyntaxError, UnicodeDecodeError):
        return []  # not Python coverage.py can read (it would report the error): no rows
    executed = set(statements) - set(missing)
    rows = []
    for line in sorted(set(statements) | set(excluded)):
        ran = line in executed
        tests = sorted({context_test_id(c) for c in by_line.get(line, ()) if c}) if ran else []
        rows.append({"rel_path": rel, "line": line, "is_executable": line in statements,
                     "is_covered": ran, "hits": len(tests), "context_count": len(tests),
                     "contexts": json.dumps(tests)})
    return rows
