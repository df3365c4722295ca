"""The git-HEAD sensor (evaluated with build_sensor_context on a temp Git repository), the
automation conditions, and the hook installer."""

from __future__ import annotations

import json
import os
import stat

import dagster as dg
import pytest

from codeintel_assets.definitions import defs
from codeintel_assets.defs.ingest import INGEST_SELECTION
from codeintel_assets.defs.jobs import codeintel_job, ingest_job
from codeintel_assets.defs.resources import TargetRepo
from codeintel_assets.defs.sensors import WATCH_ENV, automation_sensor, git_head_sensor
from codeintel_assets.trigger import (
    COMMIT_TAG,
    HOOK_MARKER,
    REPO_TAG,
    TRIGGER_TAG,
    TriggerError,
    install_hook,
)
from codeintel_assets_tests.conftest import git, make_git_repo, write_files


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


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


def test_sensor_watches_more_repositories(tmp_path, instance, monkeypatch):
    main = make_git_repo(tmp_path / "main", {"a.py": "x = 1\n"})
    other = make_git_repo(tmp_path / "other", {"b.py": "y = 1\n"},
                          remote="git@github.com:acme/other.git")
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv(WATCH_ENV, os.pathsep.join([str(other), str(plain)]))
    result = evaluate(git_head_sensor, instance, None, main)
    # Automation only follows the default target: other repositories get the whole graph.
    assert [(r.tags[REPO_TAG], r.job_name) for r in result.run_requests] == [
        ("acme/widgets", ingest_job.name), ("acme/other", codeintel_job.name)]
    assert result.run_requests[1].run_config == {
        "resources": {"target": {"config": {"root": str(other)}}}}
    assert set(json.loads(result.cursor)) == {str(main), str(other), str(plain)}


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
    assert automation_sensor.default_status == dg.DefaultSensorStatus.RUNNING
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
