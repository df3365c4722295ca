"""Compare Python symbol indexers on a pinned sdist or a checkout (issue 19, "The symbol index").

    python -m codeintel_assets.benchmark_indexers django==5.2.19 [--json out.json]
    python -m codeintel_assets.benchmark_indexers --repo /path/to/checkout [--workdir DIR]
    [--reuse: take the runs a previous call left in --workdir] [--skip scip-python]

Runs, on the scan's Python files (extract.scan.list_files, .py/.pyi):

- pyrefly `check` without a report: the floor (what tools/pyrefly runs for diagnostics);
- pyrefly `check --report-glean DIR` (one JSON file of Glean facts per module, the schema of
  Glean's `python.*` predicates), converted by benchmark_indexers_compare.glean_positions;
- scip-python as the pipeline runs it (tools/scip_index.run_index: the target's interpreter
  folder first on PATH, ToolService.scip_node_heap_mb of Node heap, crash retries), decoded by
  tools/scip_decode.decode into core.scip_occurrences rows (scip_positions).

Each run is wrapped in `/usr/bin/time -v -o FILE`: wall seconds, CPU seconds and peak RSS (MiB,
the largest process of the run: node for scip-python), summed / maxed over attempts. Agreement
is measured by position (rel_path, 1-based line, 0-based UTF-8 byte col): definitions at the
same position; references at the same position whose symbols lead to the same definition site
(SCIP symbol strings and Glean names compare without a name translation); a name check that
needs neither tool (the identifier at a reference equals the one at its definition); and the
crosswalk match rate: the share of class/function/method name tokens (extract.pysource.
name_position, as core.goids records them) holding a global symbol, as CROSSWALK_SQL joins
them. Differences are counted by token kind and target class, with examples. docs/indexers.md
holds the measured tables. No dagster import.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from codeintel_assets.benchmark_indexers_compare import (
    compare,
    crosswalk_rate,
    glean_positions,
    name_consistency,
    scip_positions,
    syntax_of,
)
from codeintel_assets.extract.scan import list_files
from codeintel_assets.tools.runner import ToolResult, ToolRunner

TIME_BIN = "/usr/bin/time"


@dataclass
class Measured:
    """One indexer run: wall_s (sum over attempts), peak_rss_mb (max over attempts, MiB),
    attempts, crashed_files (root-relative paths the tool crashed on), error (None if it
    produced an index). cpu_s is user + system seconds: on a shared machine the fairer cost."""

    indexer: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    attempts: int = 0
    crashed_files: list[str] = field(default_factory=list)
    error: str | None = None
    version: str = ""


class TimedRunner(ToolRunner):
    """A ToolRunner that runs every command under `/usr/bin/time -v -o <file>` and adds its
    elapsed seconds and maximum resident set size to `measured`."""

    def __init__(self, measured: Measured, workdir: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.measured, self.workdir = measured, workdir

    def run(self, argv, cwd=None, env=None, timeout_s=None, ok_codes=(0,), stdin=None
            ) -> ToolResult:
        self.measured.attempts += 1
        report = self.workdir / f"{self.measured.indexer}.time{self.measured.attempts}.txt"
        try:
            return super().run([TIME_BIN, "-v", "-o", str(report), *argv], cwd=cwd, env=env,
                               timeout_s=timeout_s, ok_codes=ok_codes, stdin=stdin)
        finally:
            wall, cpu, rss = read_time_report(report)
            self.measured.wall_s = round(self.measured.wall_s + wall, 2)
            self.measured.cpu_s = round(self.measured.cpu_s + cpu, 2)
            self.measured.peak_rss_mb = max(self.measured.peak_rss_mb, rss)


def read_time_report(path: Path) -> tuple[float, float, float]:
    """(elapsed s, user + system s, max RSS MiB) from GNU time's -v report; zeros if missing."""
    try:
        text = path.read_text()
    except OSError:
        return 0.0, 0.0, 0.0
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    seconds = 0.0
    if wall:
        h, m, s = wall.groups()
        seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    return round(seconds, 2), round(cpu, 2), round(int(rss.group(1)) / 1024, 1) if rss else 0.0


# ---- running the indexers ------------------------------------------------------------------

def python_files(root: Path) -> list[str]:
    """The scan's Python files (what scip_ingest hands scip-python), root-relative posix."""
    return [f for f in list_files(root) if f.endswith((".py", ".pyi"))]


def run_scip(root: Path, files: list[str], workdir: Path, timeout_s: float) -> tuple[Measured, Path]:
    """scip-python through run_index exactly as ToolService.scip_index calls it (the target's
    interpreter folder on PATH, the service's Node heap), timed per attempt."""
    from codeintel_assets.defs.resources import ToolService
    from codeintel_assets.tools.runner import ToolExecutionError
    from codeintel_assets.tools.scip_index import run_index

    service = ToolService()
    python = service.target_python(str(root))
    measured = Measured("scip-python")
    output = workdir / "index.scip"
    try:
        built = run_index(TimedRunner(measured, workdir, default_timeout_s=timeout_s), str(root),
                          str(output), "bench", "bench", timeout_s,
                          node_heap_mb=service.scip_node_heap_mb,
                          python_bin_dir=python.bin_dir, files=files)
        measured.crashed_files = list(built.excluded_files)
        measured.version = built.tool_version
    except ToolExecutionError as exc:
        measured.error = str(exc)[-2000:]
    return measured, output


def run_pyrefly(root: Path, files: list[str], workdir: Path, timeout_s: float,
                glean: bool = True) -> tuple[Measured, Path]:
    """`pyrefly check --report-glean DIR` on `files` with the target's interpreter, one run;
    with glean=False the same check without the report (the floor: what tools/pyrefly runs).

    The Glean run is the pipeline's command line (tools/glean_scip.glean_argv: `--search-path .`
    names modules from the root; without it pyrefly 1.4 named `pkg/a.py` `a` in its
    declarations while references said `pkg.a`); `--preset default` as tools/pyrefly passes for
    an unconfigured target. Diagnostics are not read (exit code 1 is normal)."""
    from codeintel_assets.defs.resources import ToolService
    from codeintel_assets.tools import pyrefly
    from codeintel_assets.tools.glean_scip import glean_argv

    service = ToolService()
    python = service.target_python(str(root))
    measured = Measured("pyrefly" if glean else "pyrefly-check")
    out = workdir / "glean"
    if glean and out.exists():
        for stale in out.glob("*.json"):
            stale.unlink()
    argv = glean_argv(service.pyrefly_path, str(root), str(out), python.executable, 0, files) \
        if glean else [service.pyrefly_path, "check", "--summary=none", "--progress-bar", "no",
                       "--output-format", "min-text",
                       *([] if pyrefly.has_config(str(root)) else ["--preset", "default"]),
                       "--python-interpreter-path", python.executable, *files]
    result = TimedRunner(measured, workdir, default_timeout_s=timeout_s).run(
        argv, cwd=root, ok_codes=range(-256, 256))
    if result.returncode not in (0, 1):
        measured.error = f"exit {result.returncode}: {result.stderr[-2000:]}"
    version = ToolRunner().run([service.pyrefly_path, "--version"]).stdout.split()
    measured.version = version[-1] if version else ""
    return measured, out


# ---- the report ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    from codeintel_assets.benchmark import fetch_sdist, unpack_as_git_repo

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("requirement", nargs="?", default="django==5.2.19")
    parser.add_argument("--repo", help="index this checkout instead of a PyPI sdist")
    parser.add_argument("--workdir", help="keep indexes and time reports here (default: temp)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse a finished run found in --workdir instead of running again")
    parser.add_argument("--skip", action="append", default=[], choices=("scip-python",))
    parser.add_argument("--examples", type=int, default=3, help="examples per category")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="codeintel-idx-") as tmp:
        work = Path(args.workdir or tmp).resolve()
        work.mkdir(parents=True, exist_ok=True)
        if args.repo:
            root = Path(args.repo).resolve()
        elif args.reuse and (work / "src").is_dir():
            (root,) = [p for p in (work / "src").iterdir() if p.is_dir()]
        else:
            (work / "src").mkdir()
            root = unpack_as_git_repo(fetch_sdist(args.requirement), work / "src")
        report = measure(root, work, args)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


def measure(root: Path, work: Path, args) -> dict:
    files = python_files(root)
    scanned = set(files)
    runs: dict[str, Measured] = {}
    started = time.perf_counter()
    runs["pyrefly-check"], _ = run_pyrefly(root, files, work, args.timeout, glean=False)
    runs["pyrefly"], glean_dir = _cached(work, "pyrefly", args.reuse,
                                         lambda: run_pyrefly(root, files, work, args.timeout))
    convert_s: dict[str, float] = {}
    t0 = time.perf_counter()
    glean = glean_positions(glean_dir, root, scanned)
    convert_s["pyrefly"] = round(time.perf_counter() - t0, 1)
    report: dict = {"root": str(root), "python_files": len(files),
                    "output_mb": {"pyrefly": round(sum(
                        f.stat().st_size for f in glean_dir.glob("*.json")) / 2**20, 1)}}
    kinds, names = syntax_of(root, files)
    report["class_function_method_names"] = len(names)
    indexes = {"pyrefly": glean}
    if "scip-python" not in args.skip:
        runs["scip-python"], index_path = _cached(
            work, "scip-python", args.reuse, lambda: run_scip(root, files, work, args.timeout))
        if index_path.exists():
            t0 = time.perf_counter()
            indexes["scip-python"] = scip_positions(index_path, root, scanned)
            convert_s["scip-python"] = round(time.perf_counter() - t0, 1)
            report["output_mb"]["scip-python"] = round(index_path.stat().st_size / 2**20, 1)
    report["runs"] = {k: asdict(v) for k, v in runs.items()}
    # Reading the output into occurrence positions (this script's Python, single process).
    report["convert_s"] = convert_s
    report["crosswalk_match_rate"] = {
        k: crosswalk_rate(v, names, k == "scip-python") for k, v in indexes.items()}
    report["counts"] = {k: {"definitions": len(v.defs), "references": len(v.refs),
                            "resolved_through_bases": v.inherited}
                        for k, v in indexes.items()}
    report["reference_name_consistency"] = {
        k: name_consistency(v, root, args.examples) for k, v in indexes.items()}
    if "scip-python" in indexes:
        report["agreement_pyrefly_vs_scip"] = asdict(compare(
            indexes["scip-python"], glean, kinds, root, args.examples))
    report["measure_s"] = round(time.perf_counter() - started, 1)
    return report


def _cached(work: Path, name: str, reuse: bool, run) -> tuple[Measured, Path]:
    """`run()`'s (Measured, output), or the ones a previous run left in `work` with --reuse."""
    saved = work / f"{name}.measured.json"
    output = work / ("index.scip" if name == "scip-python" else "glean")
    if reuse and saved.exists() and output.exists():
        return Measured(**json.loads(saved.read_text())), output
    measured, output = run()
    saved.write_text(json.dumps(asdict(measured)))
    return measured, output


if __name__ == "__main__":
    sys.exit(main())
