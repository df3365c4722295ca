"""The git-HEAD sensor and the fleet sensor (evaluated with build_sensor_context on temp Git
repositories), the automation conditions, and the hook installer."""

from __future__ import annotations

import json
import stat

import dagster as dg
import pytest

from codeintel_assets.definitions import defs as single_defs
from codeintel_assets.defs.ingest import INGEST_SELECTION
from codeintel_assets.defs.resources import TargetRepo
from codeintel_assets.defs.sensors import automation_sensor, single_sensor
from codeintel_assets.defs.shapes import REPOSITORIES, Shape, build_definitions
from codeintel_assets.launch import (
    COMMIT_TAG,
    FLEET,
    INGEST_JOB,
    PARTITION_TAG,
    REPO_TAG,
    TRIGGER_TAG,
    WATCH_ENV,
    WATCH_FILE_ENV,
)
from codeintel_assets.storage.fleet import Checkout, Registry, partition_key
from codeintel_assets.trigger import HOOK_MARKER, TriggerError, install_hook
from codeintel_assets_tests.conftest import git, make_git_repo, write_files


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


defs = single_defs()
git_head_sensor = single_sensor()


class ingest_job:  # noqa: N801 - reads like the job it names
    name = INGEST_JOB


def evaluate(sensor, instance, cursor, root):
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"target": TargetRepo(root=str(root))})
    return sensor.evaluate_tick(context)


def test_sensor_requests_skips_and_requests_again(tmp_path, instance, monkeypatch):
    monkeypatch.delenv(WATCH_ENV, raising=False)
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    first_sha = git(repo, "rev-parse", "HEAD")

    first = evaluate(git_head_sensor, instance, None, repo)
    assert [r.run_key for r in first.run_requests] == [f"acme/widgets@{first_sha}#1"]
    request = first.run_requests[0]
    assert request.job_name == ingest_job.name
    assert request.tags[COMMIT_TAG] == first_sha and request.tags[REPO_TAG] == "acme/widgets"
    assert request.run_config == {"resources": {"target": {"config": {"root": str(repo)}}}}
    assert json.loads(first.cursor)[str(repo)]["sha"] == first_sha

    again = evaluate(git_head_sensor, instance, first.cursor, repo)
    assert again.run_requests == [] and "HEAD unchanged" in again.skip_message
    assert json.loads(again.cursor)[str(repo)]["sha"] == first_sha

    write_files(repo, {"a.py": "x = 2\n"})
    git(repo, "commit", "-qam", "second")
    second_sha = git(repo, "rev-parse", "HEAD")
    third = evaluate(git_head_sensor, instance, again.cursor, repo)
    assert [r.run_key for r in third.run_requests] == [f"acme/widgets@{second_sha}#2"]
    assert json.loads(third.cursor)[str(repo)]["sha"] == second_sha

    # Back to a commit seen before (a reset or branch switch): ingested again, new run key.
    git(repo, "reset", "-q", "--hard", first_sha)
    back = evaluate(git_head_sensor, instance, third.cursor, repo)
    assert [r.run_key for r in back.run_requests] == [f"acme/widgets@{first_sha}#3"]


def test_sensor_leaves_commits_to_the_hook_unless_its_run_failed(tmp_path, instance,
                                                                 monkeypatch):
    monkeypatch.delenv(WATCH_ENV, raising=False)
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    cursor = evaluate(git_head_sensor, instance, None, repo).cursor

    def commit_with_hook_run(content: str, status: dg.DagsterRunStatus) -> str:
        write_files(repo, {"a.py": content})
        git(repo, "commit", "-qam", content)
        sha = git(repo, "rev-parse", "HEAD")
        instance.add_run(dg.DagsterRun(job_name=ingest_job.name, run_id=f"hook-{sha}",
                                       status=status, tags={REPO_TAG: "acme/widgets",
                                                            COMMIT_TAG: sha,
                                                            TRIGGER_TAG: "hook"}))
        return sha

    commit_with_hook_run("x = 2\n", dg.DagsterRunStatus.SUCCESS)
    skipped = evaluate(git_head_sensor, instance, cursor, repo)
    assert skipped.run_requests == []
    assert "launched by the post-commit hook" in skipped.skip_message
    failed_sha = commit_with_hook_run("x = 3\n", dg.DagsterRunStatus.FAILURE)
    retried = evaluate(git_head_sensor, instance, skipped.cursor, repo)
    assert [r.tags[COMMIT_TAG] for r in retried.run_requests] == [failed_sha]


def test_single_shape_watches_only_its_target(tmp_path, instance, monkeypatch):
    """$CODEINTEL_WATCH_REPOS belongs to the fleet: the single shape's sensor ignores it."""
    main = make_git_repo(tmp_path / "main", {"a.py": "x = 1\n"})
    other = make_git_repo(tmp_path / "other", {"b.py": "y = 1\n"})
    monkeypatch.setenv(WATCH_ENV, str(other))
    result = evaluate(git_head_sensor, instance, None, main)
    assert [(r.tags[REPO_TAG], r.job_name) for r in result.run_requests] == [
        ("acme/widgets", ingest_job.name)]


def fleet_defs(home) -> dg.Definitions:
    return build_definitions(Shape(FLEET, str(home)))


def evaluate_fleet(defs, instance, cursor):
    # As the daemon builds it: partitioned run requests are checked against the job's
    # partitions, which the context loads through the instance's ref (build_sensor_context
    # leaves it unset), after the tick's own add requests.
    context = dg.SensorEvaluationContext(
        instance_ref=instance.get_ref(), instance=instance, cursor=cursor,
        repository_def=defs.get_repository_def(), sensor_name="fleet_sensor")
    return defs.resolve_sensor_def("fleet_sensor").evaluate_tick(context)


def test_fleet_sensor_registers_requests_and_removes_partitions(tmp_path, instance,
                                                                monkeypatch):
    """Two clones of one remote get two partitions; a commit in one requests only its
    partition; a repository dropped from the watch list loses its partition."""
    one = make_git_repo(tmp_path / "one", {"a.py": "x = 1\n"})
    two = make_git_repo(tmp_path / "clones" / "one", {"a.py": "x = 1\n"})  # same remote
    missing = tmp_path / "gone"
    watch = tmp_path / "repositories.yaml"
    watch.write_text(f"repositories:\n  - {{root: one, run_tests: true}}\n  - {two}\n")
    monkeypatch.setenv(WATCH_FILE_ENV, str(watch))
    monkeypatch.setenv(WATCH_ENV, str(missing))
    home = tmp_path / "home"
    sensor = fleet_defs(home)

    first = evaluate_fleet(sensor, instance, None)
    keys = [partition_key(one), partition_key(two)]
    assert keys[0] != keys[1]
    assert [r.partition_key for r in first.run_requests] == keys
    assert {r.tags[REPO_TAG] for r in first.run_requests} == {"acme/widgets"}
    assert all(r.job_name == INGEST_JOB and r.tags[TRIGGER_TAG] == "sensor"
               for r in first.run_requests)
    assert [set(req.partition_keys) for req in first.dynamic_partitions_requests] == \
        [{*keys, partition_key(missing)}]
    assert Registry(home).load() == {keys[0]: Checkout(str(one), True),
                                     keys[1]: Checkout(str(two)),
                                     partition_key(missing): Checkout(str(missing))}
    instance.add_dynamic_partitions(REPOSITORIES.name, [*keys, partition_key(missing)])

    write_files(two, {"a.py": "x = 2\n"})
    git(two, "commit", "-qam", "second")
    second = evaluate_fleet(sensor, instance, first.cursor)
    assert [r.partition_key for r in second.run_requests] == [keys[1]]
    assert second.run_requests[0].tags[COMMIT_TAG] == git(two, "rev-parse", "HEAD")

    watch.write_text(f"repositories:\n  - {two}\n")
    monkeypatch.delenv(WATCH_ENV)
    third = evaluate_fleet(sensor, instance, second.cursor)
    assert third.run_requests == [] and "HEAD unchanged" in third.skip_message
    assert [set(req.partition_keys) for req in third.dynamic_partitions_requests] == \
        [{keys[0], partition_key(missing)}]
    assert list(Registry(home).load()) == [keys[1]]
    assert list(json.loads(third.cursor)) == [str(two)]


def test_fleet_sensor_reports_a_broken_watch_list(tmp_path, instance, monkeypatch):
    watch = tmp_path / "repositories.yaml"
    watch.write_text("repositories:\n  - {root: [1, 2]}\n")
    monkeypatch.setenv(WATCH_FILE_ENV, str(watch))
    result = evaluate_fleet(fleet_defs(tmp_path / "home"), instance, None)
    assert result.run_requests == [] and "repositories[0]" in result.skip_message


def test_hook_runs_name_their_partition(tmp_path, instance, monkeypatch):
    """A hook-launched run of a partition covers the commit: the sensor leaves it."""
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    monkeypatch.setenv(WATCH_FILE_ENV, str(tmp_path / "none.yaml"))
    monkeypatch.setenv(WATCH_ENV, str(repo))
    sensor = fleet_defs(tmp_path / "home")
    cursor = evaluate_fleet(sensor, instance, None).cursor
    write_files(repo, {"a.py": "x = 2\n"})
    git(repo, "commit", "-qam", "two")
    sha = git(repo, "rev-parse", "HEAD")
    instance.add_run(dg.DagsterRun(job_name=INGEST_JOB, run_id=f"hook-{sha}",
                                   status=dg.DagsterRunStatus.SUCCESS,
                                   tags={REPO_TAG: "acme/widgets", COMMIT_TAG: sha,
                                         TRIGGER_TAG: "hook",
                                         PARTITION_TAG: partition_key(repo)}))
    skipped = evaluate_fleet(sensor, instance, cursor)
    assert skipped.run_requests == [] and "post-commit hook" in skipped.skip_message


def test_sensor_evaluation_never_fetches_nor_locks_the_index(tmp_path, instance, monkeypatch):
    """Only local, lock-free git commands: an unreachable origin changes nothing, and a held
    index lock (a commit in progress) does not fail the evaluation."""
    monkeypatch.delenv(WATCH_ENV, raising=False)
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"},
                         remote="https://unreachable.invalid/acme/widgets.git")
    (repo / ".git" / "index.lock").write_text("")
    result = evaluate(git_head_sensor, instance, None, repo)
    assert len(result.run_requests) == 1
    assert (repo / ".git" / "index.lock").exists()


def test_sensors_run_by_default_and_downstream_is_eager():
    assert defs.resolve_sensor_def("git_head_sensor").default_status == \
        dg.DefaultSensorStatus.RUNNING
    assert automation_sensor().default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    job_keys = defs.resolve_job_def("codeintel_ingest_job").asset_layer.selected_asset_keys
    assert job_keys == INGEST_SELECTION.resolve(graph)
    for key in graph.get_all_asset_keys():
        condition = graph.get(key).automation_condition
        if key.path[1] in ("file_state", "modules", "repo_map", "tags_index"):
            assert condition is None, key  # repo_scan starts on a push
        else:
            assert condition is not None and condition.get_label() == "eager", key


def test_sensors_can_ship_stopped(monkeypatch):
    from codeintel_assets.defs.sensors import default_status

    monkeypatch.setenv("CODEINTEL_SENSORS", "off")
    assert default_status() == dg.DefaultSensorStatus.STOPPED
    monkeypatch.setenv("CODEINTEL_SENSORS", "on")
    assert default_status() == dg.DefaultSensorStatus.RUNNING


def test_install_hook(tmp_path):
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    hook = install_hook(repo, "http://127.0.0.1:9")
    assert hook.stat().st_mode & stat.S_IXUSR
    text = hook.read_text()
    assert HOOK_MARKER in text.splitlines()
    assert "-m codeintel_assets.trigger" in text and "http://127.0.0.1:9" in text
    with pytest.raises(TriggerError, match="unsupported characters"):
        install_hook(repo, 'http://x/"; rm -rf ~; "')
    assert install_hook(repo, "http://127.0.0.1:10") == hook  # ours: replaced
    hook.write_text("#!/bin/sh\n# calls codeintel-assets somewhere\necho mine\n")
    with pytest.raises(TriggerError, match="not ours"):
        install_hook(repo)
    # No Dagster listening: the commit still succeeds (the hook never fails Git).
    hook.unlink()
    install_hook(repo, "http://127.0.0.1:9")
    write_files(repo, {"a.py": "x = 2\n"})
    git(repo, "commit", "-qam", "with hook")


def test_install_hook_in_a_linked_worktree_and_outside_git(tmp_path):
    # A linked worktree's .git is a file; Git runs the main repository's hooks for it.
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "wt"))
    hook = install_hook(tmp_path / "wt", "http://127.0.0.1:9")
    assert hook == (repo / ".git" / "hooks" / "post-commit").resolve()
    assert "-m codeintel_assets.trigger" in hook.read_text()
    (tmp_path / "plain").mkdir()
    with pytest.raises(TriggerError, match="not the top of a Git work tree"):
        install_hook(tmp_path / "plain")
