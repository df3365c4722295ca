"""Test impact analysis: which tests a test run must execute after a change, from our own
coverage tables (pytest-testmon's rule; testmon itself conflicts with pytest-cov).

Each test-run folder (tools/testcache.py) keeps, next to its results, the `Basis` it was made
of: the environment digest (ToolService.test_run_key's parts that are not the tree), every
work-tree entry that is not a scanned Python file (data files, configuration, files the scan
skips: tools/worktree.py), each scanned Python file's content hash (core.file_state) with the
digest of its import-time skeleton (of the files the run imported), and how many selective
runs came since the last full one.
`plan` compares the current basis with the previous run's and decides:

- a full run when there is no healthy previous run, on request (`--full`, `--rerun-tests`),
  when the environment or any non-Python entry changed, after `max_selective` selective runs
  in a row, when a conftest.py changed or an `__init__.py` came or went (fixtures, hooks and
  package layout reach tests that never ran their lines), or when a Python file that holds no
  tests changed outside its function bodies (`skeleton`: a constant, a class attribute, a
  signature or an import; a test can read those without running a line of the file);
- else a selective run of: the tests of every changed (added, modified, deleted, renamed) test
  file, the tests whose recorded contexts (the previous effective coverage rows) touch any line
  of a changed or deleted Python file, the tests that failed or errored last time, and, decided
  at collection by the pytest plugin (pytest_plugins/codeintel_select.py), every test the
  previous run did not know.

A function body's change reaches only the tests that run a line of it, and those are
selected; docs/running.md, "The test run", lists what selection can miss. No dagster import.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace

import duckdb

from codeintel_assets.tools import testcache
from codeintel_assets.tools.pytest_report import split_nodeid, test_rows
from codeintel_assets.tools.testrun import REPORT_NAME, load_run

BASIS_NAME = "basis.json"
LINES_NAME = "lines.parquet"  # the effective coverage rows of a run (tools/testmerge.py)
SELECTION_NAME = "selection.json"  # the plan, for the plugin
COLLECTED_NAME = "collected.json"  # what the plugin collected and executed
# The folder of our pytest plugins, put on the target interpreter's PYTHONPATH.
PLUGIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytest_plugins")
_RERUN = ("failed", "error")  # last time's statuses that are selected again


@dataclass(frozen=True)
class Basis:
    """What a test run was made of. environment: digest of the interpreter, its
    distributions, the pytest arguments, plugin pins and time limit; other_files: rel_path ->
    its work-tree entries (tools/worktree.py), for every path that is not a scanned Python
    file; python_files: rel_path -> content_hash (core.file_state); skeletons: content_hash ->
    `skeleton` digest; selective_runs: selective runs since the last full one (0 for a full
    run)."""

    environment: str
    other_files: dict[str, str]
    python_files: dict[str, str]
    skeletons: dict[str, str]
    selective_runs: int = 0


@dataclass(frozen=True)
class Plan:
    """How the run goes. full: run every test; reason: why (a full run) or what changed (a
    selective one); selected: the node ids of the previous run to execute again; known: every
    node id of the previous run (a collected test not among them is new, so it runs);
    changed: the Python rel_paths added, modified or deleted since the previous run; previous:
    the previous run's folder ('' without one)."""

    full: bool
    reason: str
    selected: tuple[str, ...] = ()
    known: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    previous: str = ""

    @property
    def mode(self) -> str:
        return "full" if self.full else "selected"


def skeleton(source: bytes) -> str:
    """A digest of what `source` runs at import: its AST (no positions) with every function
    body emptied. Equal digests: the files differ only inside function bodies (or in
    comments and layout). An unparsable file digests its bytes."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return "bytes:" + hashlib.blake2b(source, digest_size=16).hexdigest()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body = []
    return hashlib.blake2b(ast.dump(tree).encode(), digest_size=16).hexdigest()


def basis(root: str, environment: str, tree: Iterable[tuple[str, str]],
          python_files: Mapping[str, str], previous: Basis | None,
          parse: Iterable[str] = ()) -> Basis:
    """The basis of a run of the tree at `root`: `tree` = worktree.TreeFingerprint.by_path,
    `python_files` = the scanned Python files' content hashes. Skeletons are carried over
    from `previous` by content hash, and the files of `parse` (rel_paths) are read and parsed
    (`add_skeletons` adds the imported files' after the run: a file no test imported cannot
    reach a test by its import-time values). An unreadable file gets no skeleton."""
    other: dict[str, list[str]] = {}
    for rel, entry in tree:
        if rel not in python_files:
            other.setdefault(rel, []).append(entry)
    known = previous.skeletons if previous else {}
    skeletons = {d: known[d] for d in python_files.values() if d in known}
    skeletons.update(_skeletons(root, {p: python_files[p] for p in parse
                                       if p in python_files}, skeletons))
    return Basis(environment, {rel: "\n".join(sorted(e)) for rel, e in other.items()},
                 dict(python_files), skeletons)


def _skeletons(root: str, files: Mapping[str, str], known: Mapping[str, str]
               ) -> dict[str, str]:
    """content_hash -> skeleton of `files` (rel_path -> content_hash) not in `known`."""
    found = {}
    for rel, digest in files.items():
        if digest in known or digest in found:
            continue
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                found[digest] = skeleton(fh.read())
        except OSError:
            continue
    return found


def add_skeletons(workdir: str, root: str, imported: Iterable[str]) -> None:
    """Add to `workdir`'s basis the skeletons of the `imported` rel_paths (the files a run
    covered a line of) it lacks; nothing without a basis."""
    saved = load(workdir)
    if saved is None:
        return
    files = {p: saved.python_files[p] for p in imported if p in saved.python_files}
    more = _skeletons(root, files, saved.skeletons)
    if more:
        save(workdir, replace(saved, skeletons={**saved.skeletons, **more}))


def save(workdir: str, value: Basis) -> None:
    with open(os.path.join(workdir, BASIS_NAME), "w", encoding="utf-8") as fh:
        json.dump(asdict(value), fh)


def load(workdir: str) -> Basis | None:
    """The basis saved in `workdir`, None when there is none (or it is unreadable)."""
    try:
        with open(os.path.join(workdir, BASIS_NAME), encoding="utf-8") as fh:
            return Basis(**json.load(fh))
    except (OSError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Previous:
    """The run a selective run builds on: its folder, its basis, its effective report (test
    rows) and coverage rows (LINES_NAME), and whether it was healthy (testrun.TestRun)."""

    folder: str
    basis: Basis
    report_path: str
    healthy: bool


def _changes(previous: Basis, now: Basis) -> tuple[list[str], list[str]]:
    """(changed Python rel_paths, changed other rel_paths)."""
    before, after = previous.python_files, now.python_files
    python = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    scanned = set(before) | set(after)
    other = sorted(p for p in set(previous.other_files) | set(now.other_files)
                   if p not in scanned and previous.other_files.get(p) != now.other_files.get(p))
    return python, other


def _some(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _full_reason(previous: Previous, now: Basis, max_selective: int,
                 test_files: set[str]) -> str:
    """Why the change needs a full run, '' when a selective run is sound."""
    if previous.basis.environment != now.environment:
        return ("the interpreter, its installed distributions, the pytest arguments, our plugin "
                "pins or the time limit changed")
    python, other = _changes(previous.basis, now)
    if other:
        return f"files that are not scanned Python files changed: {_some(other)}"
    if previous.basis.selective_runs >= max_selective:
        return f"{previous.basis.selective_runs} selective runs since the last full run"
    layout = [p for p in python if posixpath.basename(p) == "conftest.py" or
              (posixpath.basename(p) == "__init__.py" and
               (p in previous.basis.python_files) != (p in now.python_files))]
    if layout:
        return f"a conftest.py changed or an __init__.py came or went: {_some(layout)}"
    before = previous.basis
    # A file the previous run never imported has no skeleton: no test read its values.
    outside = [p for p in python if p in before.python_files and p in now.python_files
               and p not in test_files
               and before.skeletons.get(before.python_files[p]) is not None
               and before.skeletons[before.python_files[p]]
               != now.skeletons.get(now.python_files[p])]
    if outside:
        return f"import-time code (outside function bodies) changed in {_some(outside)}"
    return ""


def plan(previous: Previous | None, now: Basis, root: str, *, forced: str = "",
         max_selective: int = 20) -> Plan:
    """The plan of a run whose basis is `now` (see the module docstring); `forced`: why
    every test must run ('' unless requested). Reads the previous run's report and coverage
    rows; raises OSError/duckdb.Error only for an unreadable previous folder."""
    if forced:
        return Plan(True, forced)
    if previous is None:
        return Plan(True, "no previous test run of this repository to select from")
    if not previous.healthy:
        return Plan(True, f"the previous test run ({os.path.basename(previous.folder)}) did "
                    "not complete healthy", previous=previous.folder)
    rows = test_rows(previous.report_path, root, {}) if previous.report_path else []
    test_files = {split_nodeid(r["test_id"])[0] for r in rows}
    reason = _full_reason(previous, now, max_selective, test_files)
    if reason:
        return Plan(True, reason, previous=previous.folder)
    changed, _ = _changes(previous.basis, now)
    selected = {r["test_id"] for r in rows
                if r["status"] in _RERUN or split_nodeid(r["test_id"])[0] in changed}
    selected |= touching(os.path.join(previous.folder, LINES_NAME), changed)
    what = (f"{len(changed)} Python file(s) changed: {_some(changed)}" if changed
            else "no Python file changed")
    return Plan(False, what, tuple(sorted(selected)), tuple(sorted(r["test_id"] for r in rows)),
                tuple(changed), previous.folder)


def touching(lines_path: str, paths: Iterable[str]) -> set[str]:
    """The test ids whose contexts touch any line of `paths` in a run's coverage rows."""
    paths = sorted(paths)
    if not paths or not os.path.exists(lines_path):
        return set()
    with duckdb.connect() as con:
        found = con.execute(
            "SELECT DISTINCT unnest(contexts) FROM read_parquet($p) WHERE list_contains($paths, "
            "rel_path)", {"p": lines_path, "paths": paths}).fetchall()
    return {r[0] for r in found}


@dataclass(frozen=True)
class Request:
    """What the two test steps ask of ToolService.test_run. python_files: the scanned Python
    files, rel_path -> content_hash (core.file_state); exclude: rel_paths the work tree's
    fingerprint leaves out (the warehouse folder); forced: why every test must run ('' unless
    `--full` or `--rerun-tests` asked)."""

    python_files: Mapping[str, str]
    exclude: tuple[str, ...] = ()
    forced: str = ""


def prepare(root: str, workdir: str, environment: str, tree: Iterable[tuple[str, str]],
            request: Request, max_selective: int) -> Plan:
    """Plan the run into `workdir` (a folder of tools/testcache.py) against the newest other
    finished run beside it, save its Basis there, and for a selective run the plugin's
    selection file (`selection_args`). `environment` and `tree`: TestRunKey's environment and
    tree.by_path."""
    base, name = os.path.split(os.path.abspath(workdir))
    folder = testcache.previous(base, name)
    before = load(folder) if folder else None
    run = load_run(folder) if folder else None
    previous = Previous(folder, before, os.path.join(folder, REPORT_NAME), run.healthy) \
        if folder and before and run else None
    modified = [p for p, h in request.python_files.items()
                if before and before.python_files.get(p, h) != h]
    now = basis(root, environment, tree, request.python_files, before, modified)
    chosen = plan(previous, now, root, forced=request.forced, max_selective=max_selective)
    runs = 0 if chosen.full or before is None else before.selective_runs + 1
    save(workdir, replace(now, selective_runs=runs))
    if not chosen.full:
        with open(os.path.join(workdir, SELECTION_NAME), "w", encoding="utf-8") as fh:
            json.dump({"selected": chosen.selected, "known": chosen.known,
                       "out": os.path.join(workdir, COLLECTED_NAME)}, fh)
    return chosen


def selection_args(chosen: Plan, workdir: str) -> list[str]:
    """The pytest arguments that load the selection plugin, [] for a full run."""
    if chosen.full:
        return []
    return ["-p", "codeintel_select",
            f"--codeintel-selection={os.path.join(workdir, SELECTION_NAME)}"]


def executed(workdir: str) -> tuple[list[str], list[str]] | None:
    """(collected, executed) node ids the plugin wrote, None when it wrote nothing (the run
    ended before collection did)."""
    try:
        with open(os.path.join(workdir, COLLECTED_NAME), encoding="utf-8") as fh:
            seen = json.load(fh)
        return list(seen["collected"]), list(seen["executed"])
    except (OSError, ValueError, KeyError):
        return None
