"""Reacting to pushes: the git-HEAD sensor, the ingestion job it requests, and the automation
condition sensor that carries updates downstream.

Both sensors run by default whenever the Dagster daemon runs (`dagster dev` starts one). Set
CODEINTEL_SENSORS=off in the environment of the code location to ship them stopped, or toggle
them in the UI (Automation page); a toggle in the UI overrides the default.
"""

import datetime as dt
import json
import os
import time

import dagster as dg

from codeintel_assets.defs.jobs import codeintel_job, ingest_job
from codeintel_assets.defs.resources import TargetRepo
from codeintel_assets.tools.git import repo_info
from codeintel_assets.trigger import COMMIT_TAG, REPO_TAG, TRIGGER_TAG, run_config_for

SENSORS_ENV = "CODEINTEL_SENSORS"
WATCH_ENV = "CODEINTEL_WATCH_REPOS"
POLL_INTERVAL_S = 30
# A hook-launched run in one of these states already covers the commit.
_LIVE_OR_DONE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                 dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
                 dg.DagsterRunStatus.SUCCESS]


def default_status() -> dg.DefaultSensorStatus:
    off = os.environ.get(SENSORS_ENV, "").strip().lower() in ("off", "0", "false", "no")
    return dg.DefaultSensorStatus.STOPPED if off else dg.DefaultSensorStatus.RUNNING


def watched_roots(target: TargetRepo) -> list[str]:
    """The target repository, then the extra roots of $CODEINTEL_WATCH_REPOS (os.pathsep-
    separated), each once."""
    extra = [os.path.abspath(p) for p in os.environ.get(WATCH_ENV, "").split(os.pathsep) if p]
    return list(dict.fromkeys([target.abs_root, *extra]))


@dg.sensor(jobs=[ingest_job, codeintel_job], minimum_interval_seconds=POLL_INTERVAL_S,
           default_status=default_status(),
           description="Polls HEAD of the target repository (and $CODEINTEL_WATCH_REPOS) with "
           "local git commands, never fetching, and requests a run for each change of HEAD: "
           "codeintel_ingest_job for the target (its downstream follows by automation), "
           "codeintel_job (everything) for other watched repositories. Cursor: JSON "
           "{root: {sha, seq, seen_at}}.")
def git_head_sensor(context: dg.SensorEvaluationContext, target: TargetRepo):
    cursor: dict[str, dict] = json.loads(context.cursor) if context.cursor else {}
    now = time.time()
    requests, quiet = [], []
    for root in watched_roots(target):
        info = repo_info(root, head_only=True)
        seen = cursor.get(root, {})
        cursor[root] = {**seen, "seen_at": now}
        if not info.commit:
            quiet.append(f"{root}: no Git HEAD")
            continue
        if seen.get("sha") == info.commit:
            quiet.append(f"{info.slug}@{info.commit[:12]}: HEAD unchanged")
            continue
        # Every change of HEAD gets its own run key (seq), so going back to a commit seen
        # before (a branch switch, a reset) ingests it again.
        seq = seen.get("seq", 0) + 1
        cursor[root].update(sha=info.commit, seq=seq)
        tags = {REPO_TAG: info.slug, COMMIT_TAG: info.commit}
        if _hook_launched(context.instance, tags, since=seen.get("seen_at")):
            quiet.append(f"{info.slug}@{info.commit[:12]}: launched by the post-commit hook")
            continue
        job = ingest_job if root == target.abs_root else codeintel_job
        requests.append(dg.RunRequest(run_key=f"{info.slug}@{info.commit}#{seq}",
                                      job_name=job.name, run_config=run_config_for(root),
                                      tags={**tags, TRIGGER_TAG: "sensor"}))
    new_cursor = json.dumps(cursor, sort_keys=True)
    if not requests:
        return dg.SensorResult(skip_reason="; ".join(quiet) or "nothing to watch",
                               cursor=new_cursor)
    return dg.SensorResult(run_requests=requests, cursor=new_cursor)


def _hook_launched(instance: dg.DagsterInstance, tags: dict, since: float | None) -> bool:
    """Whether the hook launched a run for this commit since the sensor last looked (and it
    has not failed or been canceled)."""
    if since is None:
        return False
    records = instance.get_run_records(filters=dg.RunsFilter(
        tags={**tags, TRIGGER_TAG: "hook"}, statuses=_LIVE_OR_DONE,
        created_after=dt.datetime.fromtimestamp(since, tz=dt.UTC)), limit=1)
    return bool(records)


automation_sensor = dg.AutomationConditionSensorDefinition(
    "codeintel_automation", target=dg.AssetSelection.all(), default_status=default_status(),
    description="Evaluates the assets' automation conditions: every table downstream of "
    "repo_scan is eager, so it refreshes after its upstream tables update (runs use the "
    "default target: $CODEINTEL_TARGET or the working directory).",
)

SENSORS = [git_head_sensor, automation_sensor]
