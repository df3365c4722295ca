"""Reacting to pushes: the git-HEAD sensor of each shape and the automation condition sensor
that carries updates downstream.

- Single shape: `git_head_sensor` polls HEAD of the one target repository and requests
  codeintel_ingest_job; automation refreshes the rest.
- Fleet shape: `fleet_sensor` reads the watch list (repositories.yaml, $CODEINTEL_WATCH_REPOS),
  keeps the `repositories` partitions and the registry equal to it, and requests
  codeintel_ingest_job for the partition whose HEAD moved; automation refreshes that
  partition's downstream, and nothing else.

Both ship running whenever the Dagster daemon runs (`dagster dev` starts one) unless
CODEINTEL_SENSORS=off when the definitions load; a toggle in the UI overrides the default.
"""

import datetime as dt
import json
import os
import time

import dagster as dg

from codeintel_assets import launch
from codeintel_assets.defs.resources import TargetRepo
from codeintel_assets.storage.fleet import Checkout, FleetError, Registry, watch_list
from codeintel_assets.tools.git import repo_info

# A hook-launched run in one of these states already covers the commit.
_LIVE_OR_DONE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                 dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
                 dg.DagsterRunStatus.SUCCESS]


def default_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if launch.sensors_default_on() \
        else dg.DefaultSensorStatus.STOPPED


def _head_request(context, cursor: dict, root: str, quiet: list[str],
                  partition_key: str | None = None, run_config: dict | None = None):
    """A RunRequest for `root` (of `partition_key` in the fleet) if its HEAD moved since the
    cursor (which it updates), else None with the reason appended to `quiet`. Cursor entries:
    {sha, seq, seen_at}."""
    info = repo_info(root, head_only=True)
    seen = cursor.get(root, {})
    cursor[root] = {**seen, "seen_at": time.time()}
    if not info.commit:
        quiet.append(f"{root}: no Git HEAD")
        return None
    if seen.get("sha") == info.commit:
        quiet.append(f"{info.slug}@{info.commit[:12]}: HEAD unchanged")
        return None
    # Every change of HEAD gets its own run key (seq), so going back to a commit seen before
    # (a branch switch, a reset) ingests it again.
    seq = seen.get("seq", 0) + 1
    cursor[root].update(sha=info.commit, seq=seq)
    tags = {launch.REPO_TAG: info.slug, launch.COMMIT_TAG: info.commit}
    hook_tags = {**tags, launch.PARTITION_TAG: partition_key} if partition_key else tags
    if _hook_launched(context.instance, hook_tags, since=seen.get("seen_at")):
        quiet.append(f"{info.slug}@{info.commit[:12]}: launched by the post-commit hook")
        return None
    return dg.RunRequest(run_key=f"{partition_key or info.slug}@{info.commit}#{seq}",
                         job_name=launch.INGEST_JOB, partition_key=partition_key,
                         run_config=run_config or {},
                         tags={**tags, launch.TRIGGER_TAG: "sensor"})


def _result(cursor: dict, requests: list, quiet: list[str], **more) -> dg.SensorResult:
    new_cursor = json.dumps(cursor, sort_keys=True)
    if not requests:
        return dg.SensorResult(skip_reason="; ".join(quiet) or "nothing to watch",
                               cursor=new_cursor, **more)
    return dg.SensorResult(run_requests=requests, cursor=new_cursor, **more)


def single_sensor() -> dg.SensorDefinition:
    @dg.sensor(name="git_head_sensor", job_name=launch.INGEST_JOB,
               minimum_interval_seconds=launch.poll_interval_s(), default_status=default_status(),
               description="Polls HEAD of the target repository with local git commands, never "
               "fetching, and requests codeintel_ingest_job for each change of HEAD (its "
               "downstream follows by automation). Other repositories belong to the fleet code "
               "location. Cursor: JSON {root: {sha, seq, seen_at}}.")
    def git_head_sensor(context: dg.SensorEvaluationContext, target: TargetRepo):
        cursor: dict[str, dict] = json.loads(context.cursor) if context.cursor else {}
        quiet: list[str] = []
        request = _head_request(context, cursor, target.abs_root, quiet,
                                run_config=launch.run_config(target.abs_root))
        return _result(cursor, [request] if request else [], quiet)

    return git_head_sensor


def fleet_sensor(partitions: dg.DynamicPartitionsDefinition, home: str) -> dg.SensorDefinition:
    @dg.sensor(name="fleet_sensor", job_name=launch.INGEST_JOB,
               minimum_interval_seconds=launch.poll_interval_s(), default_status=default_status(),
               description="Keeps the `repositories` partitions and the fleet registry equal to "
               "the watch list (repositories.yaml in the working directory, its fleet/ or the "
               "folder above $DAGSTER_HOME, or $CODEINTEL_WATCH_FILE; plus "
               "$CODEINTEL_WATCH_REPOS), then polls each repository's HEAD with local git "
               "commands and requests codeintel_ingest_job for the partition whose HEAD moved. "
               "Cursor: JSON {root: {sha, seq, seen_at}}.")
    def _fleet_sensor(context: dg.SensorEvaluationContext):
        file = watch_file()
        try:
            watched = watch_list(file, launch.env(launch.WATCH_ENV))
        except FleetError as exc:  # the user's file: say so, change nothing
            return dg.SensorResult(skip_reason=f"watch list unreadable: {exc}",
                                   cursor=context.cursor)
        registry = Registry(home)
        try:
            added, removed = registry.sync(watched)
            want = set(registry.load())  # the watch list and the checkouts registered by hand
        except FleetError as exc:
            return dg.SensorResult(skip_reason=f"fleet registry unreadable: {exc}",
                                   cursor=context.cursor)
        existing = set(context.instance.get_dynamic_partitions(partitions.name))
        partition_requests = []
        if want - existing:
            partition_requests.append(partitions.build_add_request(sorted(want - existing)))
        if existing - want:
            partition_requests.append(partitions.build_delete_request(sorted(existing - want)))
        cursor: dict[str, dict] = json.loads(context.cursor) if context.cursor else {}
        cursor = {root: v for root, v in cursor.items() if root in {c.root for c in watched}}
        quiet = [f"registered {', '.join(added)}"] if added else []
        quiet += [f"removed {', '.join(removed)}"] if removed else []
        requests = [r for c in watched if (r := _checkout_request(context, cursor, c, quiet))]
        if not watched:
            quiet.append(f"no repositories to watch in {file} or ${launch.WATCH_ENV}")
        return _result(cursor, requests, quiet, dynamic_partitions_requests=partition_requests)

    return _fleet_sensor


def _checkout_request(context, cursor: dict, checkout: Checkout, quiet: list[str]):
    try:
        return _head_request(context, cursor, checkout.root, quiet,
                             partition_key=checkout.key)
    except (FileNotFoundError, NotADirectoryError):
        quiet.append(f"{checkout.root}: not a directory")
        return None


def watch_file() -> str:
    """$CODEINTEL_WATCH_FILE, else the first repositories.yaml of: the working directory
    (`cd fleet && dagster dev`), its fleet/ folder (`dagster dev -w fleet/workspace.yaml` from
    the project root), $DAGSTER_HOME and the folder above it (fleet/ for the fleet's instance
    fleet/.dagster, from any working directory); else the working directory's (which does not
    exist)."""
    explicit = launch.env(launch.WATCH_FILE_ENV)
    if explicit:
        return explicit
    candidates = [os.path.join(os.getcwd(), "repositories.yaml"),
                  os.path.join(os.getcwd(), "fleet", "repositories.yaml")]
    if launch.env("DAGSTER_HOME"):
        home = os.path.abspath(launch.env("DAGSTER_HOME"))
        candidates += [os.path.join(home, "repositories.yaml"),
                       os.path.join(os.path.dirname(home), "repositories.yaml")]
    return next((c for c in candidates if os.path.exists(c)), candidates[0])


def _hook_launched(instance: dg.DagsterInstance, tags: dict, since: float | None) -> bool:
    """Whether the hook launched a run for this commit since the sensor last looked (and it
    has not failed or been canceled)."""
    if since is None:
        return False
    records = instance.get_run_records(filters=dg.RunsFilter(
        tags={**tags, launch.TRIGGER_TAG: "hook"}, statuses=_LIVE_OR_DONE,
        created_after=dt.datetime.fromtimestamp(since, tz=dt.UTC)), limit=1)
    return bool(records)


def automation_sensor() -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "codeintel_automation", target=dg.AssetSelection.all(),
        default_status=default_status(), minimum_interval_seconds=launch.poll_interval_s(),
        description="Evaluates the assets' automation conditions: every table downstream of "
        "repo_scan is eager, so it refreshes after its upstream tables update (per partition "
        "in the fleet shape). Runs it starts do not run a repository's test suite unless the "
        "repository opted in (TargetRepo.tests_on_push / the watch list's run_tests).")
