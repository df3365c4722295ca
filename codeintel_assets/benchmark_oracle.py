"""Recall of graph.call_graph_edges against the calls a real test suite makes (issue 27's runtime
oracle), per kind of call.

    python -m codeintel_assets.benchmark_oracle black==24.10.0 --extras d --with "pytest<9" \
        --with "click<8.2" --with "pathspec<1" [--workdir W] [--json OUT] [--verbose]
    python -m codeintel_assets.benchmark_oracle click==8.1.8 [--workdir W] [--json OUT] [--verbose]
    python -m codeintel_assets.benchmark_oracle --repo . --python .venv/bin/python \
        --pytest-args "-n 0 codeintel_assets_tests/test_python_ast.py ..." [--json OUT]
    # after a change to the call graph: the same traces against a new index (no suite run)
    python -m codeintel_assets.benchmark_oracle black==24.10.0 --workdir W --reuse-traces

black's suite needs its `d` extra (tests/test_blackd.py imports aiohttp), pytest below 9
(its tests/optional.py reads config.inicfg, which pytest 9 deprecates, and the suite turns
warnings into errors), click below 8.2 (its tests call CliRunner(mix_stderr=False)) and
pathspec below 1 (1.x deprecates the 'gitwildmatch' its .gitignore handling uses). This
project's own suite runs in its own environment (`--python`), a subset of the fast modules
(docs/assets.md, "The call graph", lists the one measured). The suite's closing line is in the report
(`suite`): failing tests run less code, so check it before comparing runs.

Truth (benchmark_oracle_record.py): the target's test suite runs under sys.setprofile in a copy
of its tree, in a virtual environment made in the work folder (the copy installed editable with
its declared test requirements) or in `--python`'s environment (the copy first on PYTHONPATH).
Every call from the project's own code (`--source` folders, default `src/` or the top-level
packages that are not tests) to its own code is a runtime pair, charged to definitions of
core.goids: a lambda's or comprehension's frame to the def around it; a generator's body
counts when it starts. Left out, and counted apart: calls made by module and class bodies
(import time), callees that are no definition (lambdas, comprehensions, class bodies), `__del__`
and `__getattr__`/`__getattribute__` fallbacks (no call site), and code that maps to no GOID.

Prediction: `run.materialize` of graph/call_graph_edges and its upstream on the original tree
(an sdist unpacked into a Git repository, or `--repo`), with the pipeline's default tools (all
that the selected steps use; `--tools` to narrow), the target's interpreter being the
suite's. A runtime pair (caller GOID, callee GOID) is found when any row of
graph.call_graph_edges has that caller_goid and callee_goid, at any call site.

Each pair gets a kind (benchmark_oracle_classify.py: plain, nested, generator, dispatch,
property, implicit, getattr, wrapper, callback); recall = found / total per kind and overall.
`--json` writes the report with sorted keys and sorted misses, so runs compare line by line.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from codeintel_assets.benchmark_oracle_classify import KINDS, Classifier, read_facts
from codeintel_assets.benchmark_oracle_record import (
    CodeRef,
    RuntimeCall,
    copy_tree,
    default_sources,
    make_venv,
    read_traces,
    run_suite,
    suite_summary,
)

SELECT = "*graph/call_graph_edges"
SYNTHETIC = {"<lambda>", "<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}
NO_CALL_SITE = {"__del__", "__getattr__", "__getattribute__"}


@dataclass(frozen=True)
class Definition:
    """A row of core.goids: lines inclusive, start at the first decorator."""

    goid: int
    path: str
    kind: str
    qualname: str
    start: int
    end: int


@dataclass(frozen=True, order=True)
class Pair:
    """A runtime pair charged to definitions (qualnames as core.goids), its kind, one line
    of the caller where it happened with that kind, and whether the graph has it."""

    kind: str
    caller: str
    line: int
    callee: str
    found: bool

    def __str__(self) -> str:
        return f"[{self.kind}] {self.caller}:{self.line} -> {self.callee}"


@dataclass(frozen=True)
class KindScore:
    """Runtime pairs of one kind (or "overall") and how many of them the graph has; recall
    found / total rounded to 4 places, None without pairs."""

    kind: str
    found: int
    total: int
    recall: float | None


@dataclass(frozen=True)
class OracleReport:
    """The scores of one target: `suite` pytest's closing line and wall time (the profiled
    run), `recorded` distinct (caller code, line, callee code, via) calls,
    `excluded` counts by reason, `unmapped` the codes no GOID matched (sorted)."""

    target: str
    suite: str
    recorded: int
    excluded: dict[str, int]
    kinds: tuple[KindScore, ...]
    overall: KindScore
    misses: tuple[Pair, ...]
    unmapped: tuple[str, ...]


class GoidMap:
    """Runtime code objects -> core.goids definitions."""

    def __init__(self, definitions: Iterable[Definition]) -> None:
        self.at: dict[tuple[str, int], list[Definition]] = defaultdict(list)
        self.in_file: dict[str, list[Definition]] = defaultdict(list)
        for d in definitions:
            self.at[(d.path, d.start)].append(d)
            self.in_file[d.path].append(d)

    def definition(self, code: CodeRef) -> Definition | None:
        """The def or class whose code `code` is: same file and first line, qualname ending in
        co_qualname (core.goids' `#N` suffixes of redefinitions dropped)."""
        for d in self.at.get((code.path, code.first_line), []):
            plain = ".".join(part.partition("#")[0] for part in d.qualname.split("."))
            if d.kind != "module" and (plain == code.qualname or
                                       plain.endswith("." + code.qualname)):
                return d
        return None

    def enclosing(self, code: CodeRef) -> Definition | None:
        """The innermost definition (def, class or module) around a lambda's or comprehension's
        code, as the call graph names the caller of the calls in it."""
        around = [d for d in self.in_file.get(code.path, [])
                  if d.start <= code.first_line <= d.end]
        return min(around, key=lambda d: d.end - d.start, default=None)


def load_static(db: Path) -> tuple[list[Definition], set[tuple[int, int]]]:
    """core.goids' definitions and graph.call_graph_edges' distinct (caller, callee) GOIDs."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        defs = [Definition(*row) for row in con.execute(
            "SELECT goid, rel_path, kind, qualname, start_line, end_line FROM core.goids"
        ).fetchall()]
        edges = set(con.execute("SELECT DISTINCT caller_goid, callee_goid FROM "
                                "graph.call_graph_edges WHERE callee_goid IS NOT NULL"
                                ).fetchall())
    return defs, edges


def _exclusion(call: RuntimeCall, facts_called: set[str]) -> str | None:
    if not call.caller.is_function and call.caller.name not in SYNTHETIC:
        return "import_time"
    if not call.callee.is_function or call.callee.name in SYNTHETIC:
        return "not_a_definition"
    if call.callee.name in NO_CALL_SITE and call.callee.name not in facts_called:
        return "no_call_site"
    return None


def score(target: str, calls: list[RuntimeCall], definitions: list[Definition],
          edges: set[tuple[int, int]], classifier: Classifier, suite: str = "") -> OracleReport:
    """Charge `calls` to definitions, classify and look each pair up in `edges`."""
    goids = GoidMap(definitions)
    excluded: dict[str, int] = defaultdict(int)
    unmapped: set[str] = set()
    best: dict[tuple[int, int], tuple[int, int, Definition, Definition]] = {}
    for call in calls:
        facts = classifier.facts.get(call.caller.path)
        reason = _exclusion(call, facts.called.get(call.line, set()) if facts else set())
        if reason:
            excluded[reason] += 1
            continue
        caller = (goids.enclosing(call.caller) if call.caller.name in SYNTHETIC
                  else goids.definition(call.caller))
        callee = goids.definition(call.callee)
        if caller is None or callee is None:
            excluded["unmapped"] += 1
            unmapped.update(f"{c.path}:{c.first_line}:{c.qualname}" for c, d in
                            ((call.caller, caller), (call.callee, callee)) if d is None)
            continue
        kind = classifier.kind(caller.path, caller.qualname, (caller.start, caller.end),
                               call.line, call.callee, call.via)
        rank = (KINDS.index(kind), call.line)
        key = (caller.goid, callee.goid)
        if key not in best or rank < best[key][:2]:
            best[key] = (*rank, caller, callee)
    pairs = sorted(Pair(KINDS[k], a.qualname, line, b.qualname, (a.goid, b.goid) in edges)
                   for k, line, a, b in best.values())
    by_kind = {kind: [p for p in pairs if p.kind == kind] for kind in KINDS}
    kinds = tuple(_rate(kind, ps) for kind, ps in by_kind.items())
    return OracleReport(target, suite, len(calls), dict(sorted(excluded.items())), kinds,
                        _rate("overall", pairs), tuple(p for p in pairs if not p.found),
                        tuple(sorted(unmapped)))


def _rate(kind: str, pairs: list[Pair]) -> KindScore:
    found = sum(p.found for p in pairs)
    return KindScore(kind, found, len(pairs), round(found / len(pairs), 4) if pairs else None)


def _materialize(repo: Path, db: Path, python: Path | None, tools: list[str] | None) -> None:
    from codeintel_assets import run

    run.materialize(SELECT, target=str(repo), db=str(db), tools=tools, console_log=False,
                    target_python=str(python) if python else None)


@dataclass(frozen=True)
class Options:
    """How to run the suite and index the tree: `python` (None: a new virtual environment in
    the work folder with `extras` and the requirements `also`), `sources` (folders relative to
    the tree; None: default_sources), `pytest_args`, `tools` (None: the pipeline's default),
    and what to take from an earlier run in the same work folder: its traces
    (`reuse_traces`, the suite is not run again) and its index (`reuse_index`)."""

    python: Path | None = None
    sources: tuple[str, ...] | None = None
    pytest_args: tuple[str, ...] = ()
    extras: str = ""
    also: tuple[str, ...] = ()
    tools: tuple[str, ...] | None = None
    reuse_traces: bool = False
    reuse_index: bool = False


def evaluate(repo: Path, work: Path, options: Options = Options()) -> OracleReport:
    """Run `repo`'s suite under the recorder in a copy at `work/run` (traces in
    `work/traces`), index `repo` with the pipeline into `work/static.duckdb`, and score."""
    tree, venv = work / "run", work / "venv"
    # absolute, not resolved: a venv's python is a link that must keep its venv
    python = Path(os.path.abspath(options.python)) if options.python else venv / "bin" / "python"
    if options.reuse_traces and list((work / "traces").glob("trace-*.json")):
        calls = read_traces(work / "traces", tree)
    else:
        copy_tree(repo, tree)
        if options.python is None:
            make_venv(tree, venv, options.extras, options.also)
        roots = [tree / s for s in options.sources] if options.sources else default_sources(tree)
        calls = run_suite(python, tree, roots, work / "traces", options.pytest_args,
                          on_path=options.python is not None)
    db = work / "static.duckdb"
    if not (options.reuse_index and db.is_file()):
        db.unlink(missing_ok=True)
        _materialize(repo, db, python, list(options.tools) if options.tools is not None else None)
    definitions, edges = load_static(db)
    # the sources the suite ran, whose lines the traces name (`repo` may have moved on since)
    classifier = Classifier(read_facts(tree, {d.path for d in definitions}))
    return score(repo.name, calls, definitions, edges, classifier,
                 suite_summary(work / "traces"))


def format_report(report: OracleReport, verbose: bool = False) -> str:
    """A table of kinds (found, total, recall), the exclusions; with `verbose` the misses and
    the unmapped codes."""
    lines = [f"{report.target}: suite {report.suite or '(unknown)'}",
             f"  {report.recorded} distinct runtime calls recorded; excluded "
             + ", ".join(f"{k} {v}" for k, v in report.excluded.items()),
             f"  {'kind':<10} {'found':>6} {'total':>6} {'recall':>7}"]
    for row in (*report.kinds, report.overall):
        recall = "-" if row.recall is None else f"{row.recall:.3f}"
        lines.append(f"  {row.kind:<10} {row.found:>6} {row.total:>6} {recall:>7}")
    if verbose:
        lines += ["  misses:"] + [f"    {p}" for p in report.misses]
        lines += ["  unmapped:"] + [f"    {u}" for u in report.unmapped]
    return "\n".join(lines)


def as_json(report: OracleReport) -> dict:
    """`report` as JSON-ready data (lists, not tuples); misses as {kind, caller, line, callee}."""
    data = asdict(report)
    data["misses"] = [{"kind": p.kind, "caller": p.caller, "line": p.line, "callee": p.callee}
                      for p in report.misses]
    return json.loads(json.dumps(data))


def build_parser() -> argparse.ArgumentParser:
    """The command line (module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m codeintel_assets.benchmark_oracle",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("requirement", nargs="?", help="a PyPI sdist, name==version")
    parser.add_argument("--repo", type=Path, help="a Git checkout instead of an sdist")
    parser.add_argument("--python", type=Path,
                        help="run the suite with this interpreter (no new environment)")
    parser.add_argument("--source", action="append",
                        help="a folder of the project's own code, relative (repeatable)")
    parser.add_argument("--pytest-args", default="", help="arguments for pytest (one string)")
    parser.add_argument("--extras", default="", help="extras of the project to install")
    parser.add_argument("--with", dest="also", action="append", default=[],
                        help="one more requirement for the new environment (repeatable)")
    parser.add_argument("--tools", help="comma-separated tools (default: the pipeline's)")
    parser.add_argument("--workdir", type=Path, help="keep the work here (default: temp)")
    parser.add_argument("--reuse-traces", action="store_true",
                        help="with --workdir: take the traces of an earlier run there")
    parser.add_argument("--reuse-index", action="store_true",
                        help="with --workdir: take the index (static.duckdb) of an earlier run")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    parser.add_argument("--verbose", action="store_true", help="list misses and unmapped")
    return parser


def main(argv: list[str] | None = None) -> int:
    from codeintel_assets.benchmark import fetch_sdist, unpack_as_git_repo

    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.requirement) == bool(args.repo):
        parser.error("give a requirement (name==version) or --repo, not both")
    with tempfile.TemporaryDirectory(prefix="callgraph-oracle-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        unpacked = sorted(p for p in (work / "sdist").glob("*") if p.is_dir())
        if args.repo:
            repo = args.repo.resolve()
        elif unpacked and (args.reuse_traces or args.reuse_index):
            repo = unpacked[0]
        else:
            repo = unpack_as_git_repo(fetch_sdist(args.requirement), work / "sdist")
        report = evaluate(repo, work, Options(
            args.python, tuple(args.source) if args.source else None,
            tuple(shlex.split(args.pytest_args)), args.extras, tuple(args.also),
            tuple(args.tools.split(",")) if args.tools is not None else None,
            args.reuse_traces, args.reuse_index))
    print(format_report(report, args.verbose))
    if args.json:
        args.json.write_text(json.dumps(as_json(report), indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
