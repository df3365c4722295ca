"""Benchmark a full materialization on a pinned PyPI sdist, next to the parse floor.

    python -m codeintel_assets.benchmark django==5.2.19 [--json out.json]
    python -m codeintel_assets.benchmark django==5.2.19 --incremental [--tools]

Downloads the sdist with pip (cached under ~/.cache/codeintel-bench), unpacks it into a temp
Git repository, times `ast.parse` and `libcst.parse_module` of the same Python files (one
process, and the equivalent on all cores), then materializes every asset into a fresh DuckDB
file and reports wall time, per-step time, rows per table, files/s and rows/s.

With --incremental it materializes the ingestion assets (codeintel_ingest_job's selection: the
file-level tables), then times bringing the database current after committing no change, a
one-file edit, a ten-file edit and a one-file delete, each as a ratio to the full run, and
checks that the result equals a full rebuild of the final tree. With --incremental --tools it
does the same for every asset with every tool but tests, next to the floors and issue 19's
targets (see benchmark_incremental.py).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from codeintel_assets import benchmark_incremental as bench_inc
from codeintel_assets.tools.registry import (
    PYREFLY,
    PYRIGHT,
    RUFF,
    SCIP,
    TESTS,
    TOOL_NAMES,
)


def cache_dir() -> Path:
    """Where sdists are kept: $CODEINTEL_BENCH_CACHE, else ~/.cache/codeintel-bench."""
    return Path(os.environ.get("CODEINTEL_BENCH_CACHE", Path.home() / ".cache" / "codeintel-bench"))


def fetch_sdist(requirement: str) -> Path:
    """The sdist archive of `requirement` (name==version), downloaded once with pip."""
    from codeintel_assets.tools.runner import ToolRunner

    name, _, version = requirement.partition("==")
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    suffix = f"-{version}.tar.gz"

    def cached() -> list[Path]:
        return [p for p in cache.glob(f"*{suffix}")
                if _normal(p.name[: -len(suffix)]) == _normal(name)]

    if not cached():
        ToolRunner().run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                          ":all:", requirement, "-d", str(cache)])
    found = cached()
    if not found:
        raise FileNotFoundError(f"pip downloaded no sdist of {requirement} into {cache}")
    return found[0]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def unpack_as_git_repo(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    (root,) = [p for p in dest.iterdir() if p.is_dir()]
    return init_git_repo(root, f"sdist {archive.name}")


def init_git_repo(root: Path, message: str) -> Path:
    """Make `root` a Git repository on branch main with everything in it committed (the
    pipeline reads Git), through the ToolRunner like every external program."""
    from codeintel_assets.tools.runner import ToolRunner

    env = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    runner = ToolRunner()
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                 ["git", "commit", "-q", "-m", message]):
        runner.run(argv, cwd=root, env=env)
    return root


def parse_floor(root: Path) -> dict:
    """Seconds to ast.parse and libcst.parse_module every Python file that parses."""
    import libcst

    from codeintel_assets.extract.pysource import read_python
    from codeintel_assets.extract.scan import list_files

    sources = []
    for rel in list_files(root):
        if rel.endswith((".py", ".pyi")):
            try:
                text = read_python(str(root / rel))
                ast.parse(text)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            sources.append(text)
    started, cpu = time.perf_counter(), time.process_time()
    for text in sources:
        ast.parse(text)
    ast_s, ast_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    for text in sources:
        libcst.parse_module(text)
    cst_s, cst_cpu = time.perf_counter() - started, time.process_time() - cpu
    cores = os.cpu_count() or 1
    # Wall seconds in one process (inflated by other load), CPU seconds of the same (not).
    return {"python_files": len(sources), "lines": sum(t.count("\n") for t in sources),
            "ast_parse_s": round(ast_s, 2), "libcst_parse_s": round(cst_s, 2),
            "ast_parse_cpu_s": round(ast_cpu, 2), "libcst_parse_cpu_s": round(cst_cpu, 2),
            "cores": cores, "ast_parse_s_all_cores": round(ast_s / cores, 2),
            "libcst_parse_s_all_cores": round(cst_s / cores, 2)}


def materialize_all(root: Path, db: Path, tools: list[str] | None = None,
                    pytest_args: list[str] | None = None, select="*") -> dict:
    from codeintel_assets import progress, run
    from codeintel_assets.extract.parallel import worker_cpu_s
    from codeintel_assets.storage.locking import duckdb_opens

    opens, started = duckdb_opens(), time.perf_counter()
    spans: dict[str, list[float]] = {}

    step_opens: dict[str, int] = {}
    step_cpu: dict[str, float] = {}

    def cpu_now() -> float:  # this process's CPU and its extraction workers'
        return time.process_time() + worker_cpu_s()

    def on_event(event) -> None:  # step start/end times: what the RSS samples are cut by
        if isinstance(event, progress.StepStarted):
            spans[event.step] = [time.time(), float("inf")]
            step_opens[event.step] = -duckdb_opens()  # steps run one at a time in-process
            step_cpu[event.step] = -cpu_now()
        elif isinstance(event, progress.StepFinished) and event.step in spans:
            spans[event.step][1] = time.time()
            step_opens[event.step] += duckdb_opens()
            step_cpu[event.step] = round(step_cpu[event.step] + cpu_now(), 2)

    # A log file (beside the database) turns on the progress events.
    with RssSampler() as rss, progress.listening(on_event):
        result = run.materialize(select, target=str(root), db=str(db), tools=tools,
                                 tool_config={"pytest_args": pytest_args} if pytest_args
                                 else None, raise_on_error=False,
                                 log_file=db.with_suffix(".log"))
    wall, opens = time.perf_counter() - started, duckdb_opens() - opens
    steps = {e.step_key: round(e.event_specific_data.duration_ms / 1000, 2)
             for e in result.get_step_success_events()}
    graph = {k: v for k, v in steps.items() if k in GRAPH_STEPS}
    analytics = {k: v for k, v in steps.items() if k in ANALYTICS_STEPS}
    ingestion_s = sum(v for k, v in steps.items() if k not in GRAPH_STEPS
                      and k not in ANALYTICS_STEPS and "_check" not in k
                      and not k.endswith("_not_null"))
    info = run.summary(target=str(root), db=str(db))
    total_rows = sum(info["rows"].values())
    files = info["rows"].get("core.file_state", 0)
    checks = {f"{e.event_specific_data.asset_key.to_user_string()}:"
              f"{e.event_specific_data.asset_check_key.name}": {
                  "passed": e.event_specific_data.passed,
                  **{k: v.value for k, v in e.event_specific_data.metadata.items()}}
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    failed_checks = {k: v for k, v in checks.items() if not v["passed"]}
    return {"success": result.success, "wall_s": round(wall, 2), "rows": info["rows"],
            "duckdb_opens": opens, "step_duckdb_opens": step_opens,
            "failed_checks": failed_checks,
            "peak_rss_mb": rss.peak_mb(),
            "step_peak_rss_mb": {k: rss.peak_mb(*span) for k, span in spans.items()
                                 if k in GRAPH_STEPS},
            "graph_steps_s": graph, "graph_total_s": round(sum(graph.values()), 2),
            "ingestion_steps_s": round(ingestion_s, 2),
            "graph_to_ingestion": round(sum(graph.values()) / ingestion_s, 4)
            if ingestion_s else None,
            "analytics_steps_s": analytics,
            "analytics_to_ingestion": round(sum(analytics.values()) / ingestion_s, 4)
            if ingestion_s else None,
            "total_rows": total_rows, "files": files,
            "files_per_s": round(files / wall, 1), "rows_per_s": round(total_rows / wall, 1),
            "step_s": dict(sorted(steps.items(), key=lambda kv: -kv[1])),
            # CPU seconds per step: this process (steps run in it one at a time, so the
            # sampler thread's and Dagster's own time count too) plus its extraction workers.
            "step_cpu_s": {k: v for k, v in step_cpu.items() if v >= 0}}


# The graph layer's steps (issue 10) and the function layer's (issue 11), each reported apart
# from ingestion and as a ratio to it.
GRAPH_STEPS = ("callgraph", "import_graph", "symbol_uses", "graph_metrics")
ANALYTICS_STEPS = ("hotspots", "function_history", "coverage_functions", "test_coverage_edges",
                   "risk_factors", "docs_views")


class RssSampler:
    """Samples this process's resident set size (/proc/self/statm) every 50 ms in a thread:
    the in-process steps' memory (extraction workers are other processes)."""

    def __enter__(self) -> "RssSampler":
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm") as fh:
                self.samples.append((time.time(), int(fh.read().split()[1]) * page))
            self._stop.wait(0.05)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mb(self, start: float = 0.0, end: float = float("inf")) -> float | None:
        inside = [b for t, b in self.samples if start <= t <= end]
        return round(max(inside) / 2**20, 1) if inside else None


def tool_baselines(root: Path, tools: list[str], pytest_args: list[str]) -> dict:
    """Seconds of each bare tool command on the same Python files (no parsing, no DuckDB)."""
    from codeintel_assets.defs.resources import ToolService
    from codeintel_assets.extract.scan import list_files
    from codeintel_assets.tools import pyrefly, pyright, ruff, scip_index
    from codeintel_assets.tools.runner import ToolRunner

    service = ToolService()
    python = service.target_python(str(root)).executable
    files = [f for f in list_files(root) if f.endswith((".py", ".pyi"))]
    commands = {
        PYRIGHT.name: [service.pyright_path, *pyright.argv_for(files, python)],
        PYREFLY.name: [service.pyrefly_path,
                    *pyrefly.argv_for(files, pyrefly.has_config(str(root)), python)],
        RUFF.name: [service.ruff_path, *ruff.argv_for(files)],
        SCIP.name: [scip_index.scip_python_executable(str(Path(__file__).parent.parent)), "index",
                 "--project-name", "bench", "--project-version", "bench",
                 "--output", str(root.parent / "bare.scip")],
        TESTS.name: [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  *pytest_args],
    }
    env = {"NODE_OPTIONS": f"--max-old-space-size={service.scip_node_heap_mb}"}
    out = {}
    for tool in tools:
        started = time.perf_counter()
        ToolRunner(default_timeout_s=3600).run(commands[tool], cwd=root, env=env,
                                               ok_codes=range(256))
        out[tool] = round(time.perf_counter() - started, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("requirement", nargs="?", default="django==5.2.19")
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--skip-tool", action="append", default=[], metavar="TOOL",
                        choices=TOOL_NAMES,
                        help=f"ToolService tool not to run ({', '.join(TOOL_NAMES)})")
    parser.add_argument("--pytest-args", default="",
                        help="extra pytest arguments for the test run, e.g. '--doctest-modules rich'")
    parser.add_argument("--tool-baselines", action="store_true",
                        help="also time each bare tool command on the same files")
    parser.add_argument("--incremental", action="store_true",
                        help="benchmark incremental updates of the ingestion assets instead")
    parser.add_argument("--tools", action="store_true",
                        help="with --incremental: every asset and every tool but tests, with "
                        "the floors and issue 19's targets")
    args = parser.parse_args(argv)
    tools = [t for t in TOOL_NAMES if t not in args.skip_tool]
    pytest_args = args.pytest_args.split()
    with tempfile.TemporaryDirectory(prefix="codeintel-bench-") as tmp:
        root = unpack_as_git_repo(fetch_sdist(args.requirement), Path(tmp))
        if args.incremental:
            measures = bench_inc.Measures(materialize_all, parse_floor, tool_baselines)
            mode = bench_inc.tools_incremental if args.tools else bench_inc.incremental
            report = {"requirement": args.requirement,
                      "incremental": mode(measures, root, Path(tmp))}
            print(json.dumps(report, indent=2))
            if args.tools:
                print(bench_inc.format_targets(report["incremental"]), file=sys.stderr)
            if args.json:
                Path(args.json).write_text(json.dumps(report, indent=2))
            return 0 if not report["incremental"]["differences_from_full_rebuild"] else 1
        report = {"requirement": args.requirement, "floor": parse_floor(root),
                  "materialize": materialize_all(root, Path(tmp) / "bench.duckdb", tools,
                                                 pytest_args)}
        if args.tool_baselines:
            report["bare_tool_s"] = tool_baselines(root, tools, pytest_args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0 if report["materialize"]["success"] else 1


if __name__ == "__main__":
    sys.exit(main())
