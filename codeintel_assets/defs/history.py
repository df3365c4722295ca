"""History steps: hotspots (analytics.hotspots) and function_history
(analytics.function_history); its one-row-per-function check is with the function layer's in
defs/checks.py. Thin wiring: git runs through ToolService (tools/git_history.py), the tables
are built in storage/history.py, the span trace is extract/line_trace.py."""

import time

import dagster as dg
from pydantic import Field

from codeintel_assets.defs.common import outputs, step
from codeintel_assets.defs.ingest import GIT_REFUSED
from codeintel_assets.defs.resources import TargetRepo, ToolService, Warehouse
from codeintel_assets.defs.tools import completion, completion_spec
from codeintel_assets.extract.line_trace import Span
from codeintel_assets.storage import history
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import FileDelta

HOTSPOTS_DEPS = ("core.file_state", "core.ast_metrics")
HISTORY_DEPS = ("core.goids",)
# git refusing the repository (dubious ownership) is the target's doing: WARN, run green.
HOTSPOTS_CHECK = completion_spec(history.HOTSPOTS, "git", GIT_REFUSED)
HISTORY_CHECK = completion_spec(history.FUNCTION_HISTORY, "git", GIT_REFUSED)


class HistoryConfig(dg.Config):
    window_days: int = Field(default=history.DEFAULT_WINDOW_DAYS,
                             description="History window: days before the scanned commit's "
                             "time.")


def _git_outcome(context, spec, head: history.Head | None):
    """The git_completed check of `spec`: fails (WARN) when git refused the repository."""
    error = head.error if head else ""
    yield from completion(context, spec, not error, {
        "history_status": history.status_of(head), "git_error": error or "-"})


def _status_note(context, status: str, step_name: str, head: history.Head | None) -> str:
    if status == history.GIT:
        return ""
    if status == history.SHALLOW:
        why = ("shallow clone: history ends at the boundary commits; counts cover what is "
               "there, creation commits reached past it are NULL (fetch with --unshallow)")
    elif status == history.GIT_REFUSED:
        why = (f"git refused the repository ({head.error if head else ''}): history columns "
               "are zeros / NULL; allow it with safe.directory (docs/assets.md: function history)")
    else:
        why = ("not a Git checkout" if status == history.NO_GIT
               else "the repository has no commits") + ": history columns are zeros / NULL"
    context.log.warning(f"{step_name}: {why}")
    return why


@step("hotspots", (history.HOTSPOTS,), "git log --numstat -M of the scanned commit through "
      "ToolService (renames followed), core.ast_metrics.complexity", HOTSPOTS_DEPS,
      check_specs=[HOTSPOTS_CHECK])
def hotspots(context: dg.AssetExecutionContext, config: HistoryConfig, target: TargetRepo,
             warehouse: Warehouse, tools: ToolService):
    started = time.perf_counter()
    files = warehouse.read("core.file_state", ["rel_path"],
                           equal={"language": "python"}).column(0).to_pylist()
    metrics = warehouse.read("core.ast_metrics", ["rel_path", "complexity"])
    root, commit = target.abs_root, warehouse.snapshot_commit()
    head = tools.git_head(root, commit)  # the scanned commit, whatever HEAD is by now
    tree = tools.git_tree(root, head.sha) if head and head.sha else None
    # history only of the files the commit holds: an untracked one has none of its own
    churn = tools.git_churn(root, head.sha, [f for f in files if f in tree.files],
                            head.shallow) if tree else None
    rows = history.hotspots(target.info().slug, commit, files, metrics, head, churn,
                            config.window_days, tree)
    yield from outputs(context, {history.HOTSPOTS: rows}, {
        "history_status": history.status_of(head), "git_error": head.error if head else "",
        "note": _status_note(context, history.status_of(head), "hotspots", head),
        "window_days": config.window_days, "files": rows.num_rows,
        "submodules": dg.MetadataValue.json(list(tree.submodules[:100]) if tree else []),
        "files_changed_in_window": sum(c > 0 for c in rows.column("commit_count").to_pylist()),
        "wall_s": round(time.perf_counter() - started, 3)})
    yield from _git_outcome(context, HOTSPOTS_CHECK, head)


@step("function_history", (history.FUNCTION_HISTORY,),
      "git log -m -p -U0 -M per file through ToolService, each function's current span "
      "traced back as git log -L does, as of the scanned commit; spans from core.goids",
      HISTORY_DEPS, check_specs=[HISTORY_CHECK])
def function_history(context: dg.AssetExecutionContext, config: HistoryConfig,
                     target: TargetRepo, warehouse: Warehouse, tools: ToolService):
    started = time.perf_counter()
    repo = target.info().slug
    goids = warehouse.read("core.goids", ["commit", "goid", "rel_path", "qualname",
                                          "start_line", "end_line", "name_line"],
                           one_of={"kind": ["function", "method"]},
                           # never run: a stub a .py implements, an @overload signature
                           equal={"shadowed_stub": False, "is_overload": False})
    defs: dict[str, list[history.Definition]] = {}
    cols = goids.to_pydict()  # columns zipped: ~35k rows on django, no dict per row
    for goid, path, qualname, start, end, name in zip(*(cols[c] for c in (
            "goid", "rel_path", "qualname", "start_line", "end_line", "name_line"))):
        defs.setdefault(path, []).append(history.Definition(goid, path, qualname,
                                                            Span(start, end, name)))
    upstream = warehouse.gateway().ledger(table("core.goids"), repo)
    goids_fps = upstream[1] if upstream else {}
    # core.goids' snapshot commit (core.file_state's, which this step does not read)
    commit = goids.column("commit")[0].as_py() if goids.num_rows else target.info().commit
    head = tools.git_head(target.abs_root, commit)  # the scanned commit, not HEAD by now
    update = history.update_function_history(
        warehouse.gateway(), repo, target.abs_root, commit, tools, head, config.window_days,
        defs, goids_fps, full=warehouse.full_rebuild)
    delta = FileDelta(update.rows, (), update.ledger, update.version, commit, True,
                      planned_against=update.planned_against)
    yield from outputs(context, {history.FUNCTION_HISTORY: delta}, {
        "history_status": update.status, "git_error": head.error if head else "",
        "note": _status_note(context, update.status, "function_history", head),
        "mode": "full" if update.full else "incremental", "reason": update.reason,
        "window_days": config.window_days, "functions": update.rows.num_rows,
        "files": len(defs), "files_read": len(update.files_read),
        "files_unrecorded": len(update.unrecorded),
        "read_paths": dg.MetadataValue.json(list(update.files_read[:100])),
        "wall_s": round(time.perf_counter() - started, 3)})
    yield from _git_outcome(context, HISTORY_CHECK, head)


HISTORY_ASSETS = [hotspots, function_history]
