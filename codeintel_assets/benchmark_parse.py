"""The parse-bound steps against their floors (issue 19), in one run.

    python -m codeintel_assets.benchmark_parse django==5.2.19 [--json out.json]
    python -m codeintel_assets.benchmark_parse --root CHECKOUT [--json out.json]

Unpacks the sdist into a temp Git repository (as `benchmark`), or reads the Git checkout
`--root` as it is (read-only: the database goes to a temp folder), measures the parse floor
(`benchmark.parse_floor`: one `ast.parse` and one `libcst.parse_module` of every Python file,
divided by the cores), then materializes only the steps that parse Python into a fresh DuckDB
file and reports each step's seconds and the ratios `step_floor_ratios` computes, in wall seconds
(steps on all cores against the floor divided by the cores) and in CPU seconds (the steps'
process and extraction workers against the one-process floor, which other load inflates
less than wall time). The machine's
load average before and after is reported too: on a shared machine the ratios are only as good
as the cores the run actually had.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from codeintel_assets.benchmark_incremental import AST_STEPS, CST_STEPS


WALL_FLOORS = ("ast_parse_s_all_cores", "libcst_parse_s_all_cores")
CPU_FLOORS = ("ast_parse_cpu_s", "libcst_parse_cpu_s")


def step_floor_ratios(step_s: Mapping[str, float], floor: Mapping[str, float],
                      floors: tuple[str, str] = WALL_FLOORS) -> dict:
    """Seconds of the ast-based steps and of cst_extract next to their floors.

    `step_s`: step name -> seconds (a materialization's step durations, e.g.
    `benchmark.materialize_all(...)["step_s"]`); steps absent from it count 0. `floor`:
    `benchmark.parse_floor(root)` of the same tree; `floors` names its ast and LibCST values to
    compare with (WALL_FLOORS: wall seconds over the cores, for step durations; CPU_FLOORS:
    one process's CPU seconds, for `materialize_all(...)["step_cpu_s"]`).
    Returns {ast_steps: {step: s}, ast_steps_s, ast_floor_s, ast_ratio, cst_step_s,
    cst_floor_s, cst_ratio}; a ratio is None when its floor is 0 (no Python files).
    """
    ast_steps = {s: step_s[s] for s in AST_STEPS if s in step_s}
    ast_total = round(sum(ast_steps.values()), 2)
    cst_total = round(sum(step_s.get(s, 0.0) for s in CST_STEPS), 2)
    ast_floor, cst_floor = floor[floors[0]], floor[floors[1]]
    return {"ast_steps": ast_steps, "ast_steps_s": ast_total, "ast_floor_s": ast_floor,
            "ast_ratio": round(ast_total / ast_floor, 2) if ast_floor else None,
            "cst_step_s": cst_total, "cst_floor_s": cst_floor,
            "cst_ratio": round(cst_total / cst_floor, 2) if cst_floor else None}


def parse_steps_run(root: Path, db: Path) -> dict:
    """Floor, then a materialization of the parse-bound steps of `root` into `db`; returns
    {floor, step_s, ratios, wall_s, success, load_before, load_after} (load: 1/5/15-minute
    load averages)."""
    from codeintel_assets.benchmark import materialize_all, parse_floor
    from codeintel_assets.defs import ingest

    load_before = os.getloadavg()
    floor = parse_floor(root)
    steps = [a for a in ingest.INGEST_ASSETS if a.op.name in (*AST_STEPS, *CST_STEPS)]
    import dagster as dg

    result = materialize_all(root, db, tools=[], select=dg.AssetSelection.assets(*steps))
    return {"floor": floor, "step_s": result["step_s"], "step_cpu_s": result["step_cpu_s"],
            "ratios": step_floor_ratios(result["step_s"], floor),
            "cpu_ratios": step_floor_ratios(result["step_cpu_s"], floor, CPU_FLOORS),
            "wall_s": result["wall_s"], "success": result["success"],
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    from codeintel_assets.benchmark import fetch_sdist, unpack_as_git_repo

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("requirement", nargs="?", default="django==5.2.19")
    parser.add_argument("--root", help="a Git checkout to measure instead of an sdist")
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="codeintel-bench-") as tmp:
        root = (Path(args.root).resolve() if args.root
                else unpack_as_git_repo(fetch_sdist(args.requirement), Path(tmp)))
        report = {"requirement": args.root or args.requirement,
                  **parse_steps_run(root, Path(tmp) / "bench.duckdb")}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0 if report["success"] else 1


if __name__ == "__main__":
    sys.exit(main())
