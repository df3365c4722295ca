"""Precision and recall of graph.call_graph_edges on the labelled call-graph corpus.

    python -m codeintel_assets.benchmark_callgraph [--corpus DIR] [--json OUT] [--verbose]

What is measured: the in-repository call edges our pipeline predicts, against hand-written labels
whose runtime part is verified by tracing each program (codeintel_assets_tests/
test_callgraph_corpus.py). An edge is (caller qualname, call-site line, callee qualname), the
qualnames as core.goids writes them; both runs are scored per corpus category and overall:

- truth: the "edges" of every program's expected.json (also those marked "untraced": reachable,
  just not on the traced run), property accessors and overrides reached by dispatch among
  them. Calls of builtins, third-party code and lambdas ("external") and the implicit calls
  the graph does not claim yet (operator dunders, `len()`/`list()`; "implicit") are not edges.
- prediction: every row of graph.call_graph_edges whose caller lies in a corpus package and whose
  callee_goid is not NULL (a NULL callee is no claim about the repository's code).
- tp: predicted and true; fp: predicted, not true; fn: true, not predicted. precision =
  tp / (tp + fp) (1.0 without predictions), recall = tp / (tp + fn) (1.0 without truth).

Where the data comes from: the corpus (default codeintel_assets_tests/callgraph_corpus, one
folder per category and program, see its README) is copied into one temporary Git repository,
each program as the top-level package `<category>__<program>`, and `run.materialize` builds
`graph/call_graph_edges` and its upstream twice in this process: with the scip tool (SCIP
occurrences first, static rules after) and with no tools (static rules only).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from codeintel_assets.benchmark import init_git_repo
from codeintel_assets.tools.registry import SCIP

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "codeintel_assets_tests" / \
    "callgraph_corpus"
SELECT = "*graph/call_graph_edges"
# The package's own module in expected.json (a def in __init__.py is written by its name).
INIT = "__init__"


@dataclass(frozen=True, order=True)
class Edge:
    """One call edge: qualnames as core.goids (module-qualified), line as core.call_sites."""

    caller: str
    line: int
    callee: str

    def __str__(self) -> str:
        return f"{self.caller}:{self.line} -> {self.callee}"


@dataclass(frozen=True)
class Program:
    """One corpus program: `path` is its folder, `labels` its parsed expected.json."""

    category: str
    name: str
    path: Path
    labels: Mapping

    @property
    def package(self) -> str:
        """The top-level package the program becomes in the evaluation repository."""
        return f"{self.category}__{self.name}"

    def qualify(self, rel: str) -> str:
        """A package-relative qualname of expected.json as core.goids writes it."""
        return self.package if rel == INIT else f"{self.package}.{rel}"

    def truth(self) -> frozenset[Edge]:
        """The program's true in-repository edges (the labelled "edges", qualified)."""
        return frozenset(Edge(self.qualify(e["caller"]), e["line"], self.qualify(e["callee"]))
                         for e in self.labels["edges"])


@dataclass(frozen=True)
class CategoryScore:
    """Counts and rates of one category (or "overall")."""

    category: str
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float


@dataclass(frozen=True)
class RunScore:
    """One pipeline run's scores, and the edges it got wrong (sorted)."""

    scip: bool
    overall: CategoryScore
    categories: tuple[CategoryScore, ...]
    false_positives: tuple[Edge, ...]
    false_negatives: tuple[Edge, ...]


@dataclass(frozen=True)
class CorpusScores:
    """The corpus scored with SCIP (and static rules after it) and with static rules only."""

    with_scip: RunScore
    without_scip: RunScore


def load_corpus(corpus: Path = DEFAULT_CORPUS) -> list[Program]:
    """Every program of `corpus` (`<category>/<program>/expected.json`), sorted."""
    return [Program(p.parent.parent.name, p.parent.name, p.parent,
                    json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(Path(corpus).glob("*/*/expected.json"))]


def copy_programs(programs: Iterable[Program], dest: Path) -> None:
    """Each program's Python files under `dest/<category>__<program>/` (labels left out)."""
    for program in programs:
        shutil.copytree(program.path, dest / program.package,
                        ignore=shutil.ignore_patterns("expected.json", "__pycache__"))


def make_git_repo(programs: Iterable[Program], root: Path) -> Path:
    """A Git repository at `root` with the programs committed (the pipeline reads Git)."""
    root.mkdir(parents=True, exist_ok=True)
    copy_programs(programs, root)
    return init_git_repo(root, "call-graph corpus")


def predicted_edges(db: Path) -> frozenset[Edge]:
    """graph.call_graph_edges with a callee GOID, as qualnames (core.goids) of both ends."""
    import duckdb

    sql = """
        SELECT caller.qualname, e.callsite_line, callee.qualname
        FROM graph.call_graph_edges e
        JOIN core.goids caller ON caller.repo = e.repo AND caller.goid = e.caller_goid
        JOIN core.goids callee ON callee.repo = e.repo AND callee.goid = e.callee_goid
    """
    with duckdb.connect(str(db), read_only=True) as con:
        return frozenset(Edge(*row) for row in con.execute(sql).fetchall())


def _rates(category: str, tp: int, fp: int, fn: int) -> CategoryScore:
    return CategoryScore(category, tp, fp, fn, tp / (tp + fp) if tp + fp else 1.0,
                         tp / (tp + fn) if tp + fn else 1.0)


def score(programs: Iterable[Program], predicted: Iterable[Edge], scip: bool) -> RunScore:
    """Score `predicted` against the programs' truth, per category (the category of the
    caller's package) and overall; predictions outside the programs' packages are ignored."""
    category_of: dict[str, str] = {}
    truth: set[Edge] = set()
    for program in programs:
        category_of[program.package] = program.category
        truth |= program.truth()
    claimed = {e for e in predicted if e.caller.split(".")[0] in category_of}
    fps, fns = sorted(claimed - truth), sorted(truth - claimed)
    counts: dict[str, list[int]] = {c: [0, 0, 0] for c in sorted(set(category_of.values()))}
    for index, edges in enumerate((claimed & truth, fps, fns)):
        for edge in edges:
            counts[category_of[edge.caller.split(".")[0]]][index] += 1
    categories = tuple(_rates(c, *n) for c, n in counts.items())
    overall = _rates("overall", *(sum(n[i] for n in counts.values()) for i in range(3)))
    return RunScore(scip, overall, categories, tuple(fps), tuple(fns))


def evaluate(corpus: Path = DEFAULT_CORPUS, workdir: Path | None = None) -> CorpusScores:
    """Build the evaluation repository in `workdir` (default: a temporary folder, removed
    after), run the pipeline with and without SCIP, and score both runs."""
    programs = load_corpus(corpus)
    if not programs:
        raise FileNotFoundError(f"no <category>/<program>/expected.json under {corpus}")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="callgraph-bench-") as tmp:
            return evaluate(corpus, Path(tmp))
    repo = make_git_repo(programs, Path(workdir) / "repo")
    runs = []
    for scip in (True, False):
        db = _materialize(repo, workdir, scip)
        # A failed or missing scip-python leaves SCIP's tables empty and the run falls back to
        # the static rules: the "with SCIP" scores would silently be the static ones.
        if scip and not _scip_resolved(db):
            raise RuntimeError(f"no call edge of {db} was resolved by SCIP; is scip-python "
                               "installed (npm ci --prefix codeintel_assets/tools/node)?")
        runs.append(score(programs, predicted_edges(db), scip))
    return CorpusScores(*runs)


def _scip_resolved(db: Path) -> int:
    """Call edges of `db` that SCIP resolved."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM graph.call_graph_edges "
                           "WHERE resolved_via = 'scip'").fetchone()[0]


def _materialize(repo: Path, workdir: Path, scip: bool) -> Path:
    """Materialize the call graph of `repo` into a fresh database; its path."""
    from codeintel_assets import run

    db = Path(workdir) / ("with-scip.duckdb" if scip else "static.duckdb")
    run.materialize(SELECT, target=str(repo), db=str(db), tools=[SCIP.name] if scip else [],
                    console_log=False)
    return db


def format_scores(scores: CorpusScores, verbose: bool = False) -> str:
    """A table per run (category, tp, fp, fn, precision, recall); with `verbose`, the false
    positives and false negatives under it."""
    lines: list[str] = []
    for run in (scores.with_scip, scores.without_scip):
        lines += ["", "with SCIP" if run.scip else "static rules only (no SCIP)",
                  f"  {'category':<24} {'tp':>5} {'fp':>5} {'fn':>5} {'precision':>9} "
                  f"{'recall':>7}"]
        for row in (*run.categories, run.overall):
            lines.append(f"  {row.category:<24} {row.tp:>5} {row.fp:>5} {row.fn:>5} "
                         f"{row.precision:>9.3f} {row.recall:>7.3f}")
        if verbose:
            lines += ["  false positives:"] + [f"    {e}" for e in run.false_positives]
            lines += ["  false negatives:"] + [f"    {e}" for e in run.false_negatives]
    return "\n".join(lines[1:])


def as_json(scores: CorpusScores) -> dict:
    """`scores` as JSON-ready data (edges as [caller, line, callee])."""
    def run(r: RunScore) -> dict:
        data = asdict(r)
        data["false_positives"] = [[e.caller, e.line, e.callee] for e in r.false_positives]
        data["false_negatives"] = [[e.caller, e.line, e.callee] for e in r.false_negatives]
        return data
    return {"with_scip": run(scores.with_scip), "without_scip": run(scores.without_scip)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeintel_assets.benchmark_callgraph",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="corpus folder (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the scores to this file")
    parser.add_argument("--verbose", action="store_true",
                        help="list the false positives and false negatives")
    args = parser.parse_args(argv)
    scores = evaluate(args.corpus)
    print(format_scores(scores, args.verbose))
    if args.json:
        args.json.write_text(json.dumps(as_json(scores), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
