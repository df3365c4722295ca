"""What the function-metrics pass costs ast_extract: `extract_ast` over every .py file of a
source tree in this one process, alternately without the pass (python_ast feeds it no node and
its rows are not built) and with it; CPU seconds, best of `--runs`.

    python -m codeintel_assets.benchmark_function_metrics /tmp/djsrc/django-5.2.19 [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from codeintel_assets.extract import function_metrics, python_ast
from codeintel_assets.extract.parallel import FileJob


def _jobs(root: Path) -> list[FileJob]:
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        module = rel[:-3].replace("/", ".").removesuffix(".__init__")
        out.append(FileJob("bench/bench", "", rel, str(path), module))
    return out


def _run(jobs: list[FileJob]) -> tuple[float, int]:
    """CPU seconds of extract_ast over `jobs` and the function_metrics rows it made."""
    rows = 0
    start = time.process_time()
    for job in jobs:
        try:
            out = python_ast.extract_ast(job)
        except (SyntaxError, UnicodeDecodeError, ValueError, RecursionError):
            continue  # the pipeline records these as file errors; they cost both runs alike
        rows += len(out["analytics.function_metrics"])
    return time.process_time() - start, rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    jobs = _jobs(args.root)
    visited, rows_fn = python_ast.VISITED, function_metrics.FunctionMetrics.rows
    best = {"without": float("inf"), "with": float("inf")}
    for _ in range(args.runs):
        for label in ("without", "with"):
            # "without": the pass is switched off where python_ast calls it
            python_ast.VISITED = frozenset() if label == "without" else visited
            function_metrics.FunctionMetrics.rows = (
                (lambda self, *a: ([], [])) if label == "without" else rows_fn)
            gc.collect()
            seconds, rows = _run(jobs)
            best[label] = min(best[label], seconds)
            print(f"{label}: {seconds:.2f} s, {rows} function rows", flush=True)
    python_ast.VISITED, function_metrics.FunctionMetrics.rows = visited, rows_fn
    added = best["with"] / best["without"] - 1
    print(f"{len(jobs)} files; best: without {best['without']:.2f} s, with {best['with']:.2f} s "
          f"(+{added:.1%})")


if __name__ == "__main__":
    main()
