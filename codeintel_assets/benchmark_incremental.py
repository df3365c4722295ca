"""The benchmark's incremental modes: what bringing the warehouse current after a commit costs,
as a ratio to the full materialization measured in the same run.

    python -m codeintel_assets.benchmark django==5.2.19 --incremental
    python -m codeintel_assets.benchmark django==5.2.19 --incremental --tools

Without --tools: the ingestion assets only (codeintel_ingest_job's selection, no tools), then a
no-change commit, a one-file edit, a ten-file edit and a one-file delete.

With --tools (issue 19's targets): every asset with every tool but the test run (the test
steps write their tables empty, as `--skip-tool tests` does), then a no-change commit and a
one-file push, each materializing the same selection so that every table is current; next to
them the floors measured in the same run (`benchmark.parse_floor`, and a bare whole-project
pyrefly check as the symbol index's floor) and the targets. Both end by comparing every table
with a full rebuild of the final tree (`storage.compare.table_differences`); the command exits
non-zero on a difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codeintel_assets.tools.registry import PYREFLY, TESTS, TOOL_NAMES

BENCH_EDIT = "\n\ndef _codeintel_bench_added(value):\n    return value\n"

# Tables that are not snapshots of the tree, so an updated warehouse legitimately holds more than
# a rebuild: none today (analytics.history_timeseries, which appends per commit, will be one).
NOT_SNAPSHOTS = ("analytics.history_timeseries",)

# Issue 19's targets: (name, measured key, floor key, bound on measured / floor).
TARGETS = (
    ("one-file push <= 10% of full", "modify_1_s", "full_s", 0.10),
    ("no-change commit <= 1.5% of full", "no_change_s", "full_s", 0.015),
    ("ast steps <= 2x ast.parse (all cores)", "ast_steps_s", "ast_parse_s_all_cores", 2.0),
    ("cst_extract <= 2x libcst.parse_module (all cores)", "cst_extract_s",
     "libcst_parse_s_all_cores", 2.0),
)
# The steps that parse Python with `ast` (their seconds add up against one ast.parse pass) and
# the one that parses with LibCST. docstrings_ingest and config_ingest's string literals were
# parses of their own before ast_extract's one pass took them in, and ast_extract is part of
# repo_scan since the pass builds its rows from the scan's parse (the old names stay for older
# runs' step lists; a step absent from a run counts 0); config_ingest reads config files too
# and counts in full either way.
AST_STEPS = ("repo_scan", "ast_extract", "docstrings_ingest", "config_ingest")
CST_STEPS = ("cst_extract",)
SYMBOL_INDEX_STEP = "scip_ingest"


@dataclass(frozen=True)
class Measures:
    """benchmark.py's measuring functions, passed in so the import goes one way:
    materialize(root, db, tools, select=...) -> the run's report (`benchmark.materialize_all`),
    parse_floor(root), tool_baselines(root, tools, pytest_args) -> {tool: seconds}."""

    materialize: Callable[..., dict]
    parse_floor: Callable[[Path], dict]
    tool_baselines: Callable[[Path, list[str], list[str]], dict]


class BenchRepo:
    """The benchmark's Git repository: commits through the ToolRunner, edits spread over the
    tree (every ~23rd Python file of its second half)."""

    def __init__(self, root: Path) -> None:
        from codeintel_assets.extract.scan import list_files
        from codeintel_assets.tools.runner import ToolRunner

        self.root, self.runner = root, ToolRunner()
        python = [f for f in list_files(root) if f.endswith(".py")]
        self.picks = python[len(python) // 2 :: max(1, len(python) // 23)]

    def commit(self, message: str) -> None:
        env = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
        self.runner.run(["git", "add", "-A"], cwd=self.root, env=env)
        self.runner.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=self.root,
                        env=env)

    def edit(self, paths: list[str]) -> None:
        for rel in paths:
            with open(self.root / rel, "a", encoding="utf-8") as fh:
                fh.write(BENCH_EDIT)


def _updates(repo: BenchRepo, db: Path, run: Callable[[Path], dict], full: dict,
             scenarios: list[tuple[str, Callable[[], None]]]) -> dict:
    """Each scenario's change committed and the warehouse brought current by `run`."""
    out = {}
    for name, change in scenarios:
        change()
        repo.commit(name)
        result = run(db)
        out[name] = {"success": result["success"], "wall_s": result["wall_s"],
                     "ratio_to_full": round(result["wall_s"] / full["wall_s"], 4),
                     "duckdb_opens": result["duckdb_opens"],
                     "step_duckdb_opens": result["step_duckdb_opens"],
                     "step_s": result["step_s"]}
    return out


def _differences(db: Path, rebuilt: Path, selection) -> dict[str, int]:
    """table_differences over every catalog table `selection` writes (views and the index
    file are not tables; NOT_SNAPSHOTS are left out)."""
    from codeintel_assets.definitions import defs
    from codeintel_assets.storage.catalog import TABLES
    from codeintel_assets.storage.compare import table_differences

    keys = selection.resolve(defs().resolve_asset_graph())
    names = sorted(n for n in (".".join(k.path) for k in keys)
                   if n in TABLES and n not in NOT_SNAPSHOTS)
    return table_differences(db, rebuilt, names)


def incremental(measures: Measures, root: Path, tmp: Path) -> dict:
    """Full ingestion, then the cost of each kind of update, as seconds and ratio to full."""
    from codeintel_assets.defs.ingest import INGEST_SELECTION

    repo, db = BenchRepo(root), tmp / "incremental.duckdb"

    def run(path: Path) -> dict:
        return measures.materialize(root, path, [], select=INGEST_SELECTION)

    full = run(db)
    report = {"full": {k: full[k] for k in ("success", "wall_s", "duckdb_opens", "total_rows",
                                             "files", "step_s")}}
    picks = repo.picks
    report.update(_updates(repo, db, run, full, [
        ("no_change", lambda: None), ("modify_1", lambda: repo.edit(picks[:1])),
        ("modify_10", lambda: repo.edit(picks[1:11])),
        ("delete_1", lambda: (root / picks[11]).unlink())]))
    rebuilt = tmp / "rebuilt.duckdb"
    run(rebuilt)
    report["differences_from_full_rebuild"] = _differences(db, rebuilt, INGEST_SELECTION)
    return report


def tools_incremental(measures: Measures, root: Path, tmp: Path) -> dict:
    """Issue 19's benchmark: every asset with every tool but tests, a no-change commit and a
    one-file push, the floors, the targets, and the comparison with a full rebuild."""
    import dagster as dg

    tools = [t for t in TOOL_NAMES if t != TESTS.name]
    repo, db = BenchRepo(root), tmp / "tools.duckdb"
    floor = {**measures.parse_floor(root), "pyrefly_check_s":
             measures.tool_baselines(root, [PYREFLY.name], [])[PYREFLY.name]}

    def run(path: Path) -> dict:
        return measures.materialize(root, path, tools)

    full = run(db)
    report = {"floor": floor,
              "full": {k: full[k] for k in ("success", "wall_s", "duckdb_opens", "total_rows",
                                             "files", "failed_checks", "step_s")}}
    report.update(_updates(repo, db, run, full, [
        ("no_change", lambda: None), ("modify_1", lambda: repo.edit(repo.picks[:1]))]))
    rebuilt = tmp / "rebuilt.duckdb"
    run(rebuilt)
    report["differences_from_full_rebuild"] = _differences(db, rebuilt, dg.AssetSelection.all())
    report["targets"] = targets(report)
    return report


def targets(report: dict) -> list[dict]:
    """Issue 19's targets against this run: each measured value, its floor, the ratio and the
    bound (per-step values are the full run's)."""
    steps = report["full"]["step_s"]
    values = {**report["floor"], "full_s": report["full"]["wall_s"],
              "no_change_s": report["no_change"]["wall_s"],
              "modify_1_s": report["modify_1"]["wall_s"],
              "ast_steps_s": round(sum(steps.get(s, 0.0) for s in AST_STEPS), 2),
              "cst_extract_s": steps.get("cst_extract", 0.0)}
    out = [{"target": name, "measured_s": values[key], "floor_s": values[floor],
            "ratio": round(values[key] / values[floor], 4) if values[floor] else None,
            "bound": bound, "met": bool(values[floor]) and values[key] / values[floor] <= bound}
           for name, key, floor, bound in TARGETS]
    index = steps.get(SYMBOL_INDEX_STEP, 0.0)
    pyrefly_s = values["pyrefly_check_s"]
    out.append({"target": "symbol index step (scip_ingest) vs bare pyrefly check (floor); "
                "issue: <= 25% of today's", "measured_s": index, "floor_s": pyrefly_s,
                "ratio": round(index / pyrefly_s, 2) if pyrefly_s else None, "bound": None,
                "met": None})
    return out


def format_targets(report: dict) -> str:
    """The targets as an aligned text table (stderr beside the JSON)."""
    rows = [("target", "measured s", "floor s", "ratio", "bound", "met")]
    rows += [(t["target"], str(t["measured_s"]), str(t["floor_s"]), str(t["ratio"]),
              str(t["bound"] if t["bound"] is not None else "-"),
              {True: "yes", False: "NO", None: "-"}[t["met"]]) for t in report["targets"]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)
