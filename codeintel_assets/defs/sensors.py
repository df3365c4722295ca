"""Reacting to pushes: the git-HEAD sensor, the ingestion job it requests, and the automation
condition sensor that carries updates downstream.

Both sensors run by default whenever the Dagster daemon runs (`dagster dev` starts one). Set
CODEINTEL_SENSORS=off in the environment of the code location to ship them stopped, or toggle
them in the UI (Automation page); a toggle in the UI overrides the default.
"""

import json
import os

import dagster as dg

from codeintel_assets.defs.ingest import INGEST_SELECTION
from codeintel_assets.defs.resources import TargetRepo
from codeintel_assets.tools.git import repo_info

SENSORS_ENV = "CODEINTEL_SENSORS"
WATCH_ENV = "CODEINTEL_WATCH_REPOS"
# Run tags: which repository and commit a run ingests (the post-commit hook sets them too).
REPO_TAG, COMMIT_TAG = "codeintel/repo", "codeintel/commit"
POLL_INTERVAL_S = 30


def default_status() -> dg.DefaultSensorStatus:
    off = os.environ.get(SENSORS_ENV, "").strip().lower() in ("off", "0", "false", "no")
    return dg.DefaultSensorStatus.STOPPED if off else dg.DefaultSensorStatus.RUNNING


ingest_job = dg.define_asset_job(
    "codeintel_ingest_job", selection=INGEST_SELECTION,
    description="Re-index the work tree: repo_scan and the file-level ingestion tables "
    "(incremental: only changed files are read). The git-HEAD sensor and the post-commit hook "
    "launch it; everything downstream follows by its automation condition.",
)


def run_config_for(root: str) -> dict:
    """Run config pointing the `target` resource (and so the warehouse) at `root`."""
    return {"resources": {"target": {"config": {"root": root}}}}


def watched_roots(target: TargetRepo) -> list[str]:
    """The target repository, then the extra roots of $CODEINTEL_WATCH_REPOS (os.pathsep-
    separated), each once."""
    extra = [os.path.abspath(p) for p in os.environ.get(WATCH_ENV, "").split(os.pathsep) if p]
    return list(dict.fromkeys([target.abs_root, *extra]))


@dg.sensor(job=ingest_job, minimum_interval_seconds=POLL_INTERVAL_S,
           default_status=default_status(),
           description="Polls HEAD of the target repository (and $CODEINTEL_WATCH_REPOS) with "
           "local git commands, never fetching, and requests codeintel_ingest_job for each new "
           "commit. Cursor: JSON {repository root: last seen sha}.")
def git_head_sensor(context: dg.SensorEvaluationContext, target: TargetRepo):
    cursor: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests, unchanged = [], []
    for root in watched_roots(target):
        info = repo_info(root)
        if not info.commit:
            unchanged.append(f"{root} (no Git HEAD)")
            continue
        if cursor.get(root) == info.commit:
            unchanged.append(f"{info.slug}@{info.commit[:12]}")
            continue
        cursor[root] = info.commit
        tags = {REPO_TAG: info.slug, COMMIT_TAG: info.commit}
        # The post-commit hook may have launched this commit already.
        if context.instance.get_run_records(filters=dg.RunsFilter(tags=tags), limit=1):
            context.log.info(f"{info.slug}@{info.commit[:12]} already has a run")
            continue
        requests.append(dg.RunRequest(run_key=f"{info.slug}@{info.commit}",
                                      run_config=run_config_for(root), tags=tags))
    new_cursor = json.dumps(cursor, sort_keys=True)
    if not requests:
        return dg.SensorResult(skip_reason=f"HEAD unchanged: {', '.join(unchanged) or '-'}",
                               cursor=new_cursor)
    return dg.SensorResult(run_requests=requests, cursor=new_cursor)


automation_sensor = dg.AutomationConditionSensorDefinition(
    "codeintel_automation", target=dg.AssetSelection.all(), default_status=default_status(),
    description="Evaluates the assets' automation conditions: every table downstream of "
    "repo_scan is eager, so it refreshes after its upstream tables update.",
)

SENSORS = [git_head_sensor, automation_sensor]
