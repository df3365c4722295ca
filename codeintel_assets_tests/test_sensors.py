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
from codeintel_assets.defs.resources import TargetRepo
from codeintel_assets.defs.sensors import (
    COMMIT_TAG,
    REPO_TAG,
    WATCH_ENV,
    automation_sensor,
    git_head_sensor,
    ingest_job,
)
from codeintel_assets.trigger import TriggerError, install_hook
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
    assert [r.run_key for r in first.run_requests] == [f"acme/widgets@{first_sha}"]
    request = first.run_requests[0]
    assert request.tags[COMMIT_TAG] == first_sha and request.tags[REPO_TAG] == "acme/widgets"
    assert request.run_config == {"resources": {"target": {"config": {"root": str(repo)}}}}
    assert json.loads(first.cursor) == {str(repo): first_sha}

    again = evaluate(git_head_sensor, instance, first.cursor, repo)
    assert again.run_requests == [] and "HEAD unchanged" in again.skip_message
    assert again.cursor == first.cursor

    write_files(repo, {"a.py": "x = 2\n"})
    git(repo, "commit", "-qam", "second")
    second_sha = git(repo, "rev-parse", "HEAD")
    third = evaluate(git_head_sensor, instance, again.cursor, repo)
    assert [r.run_key for r in third.run_requests] == [f"acme/widgets@{second_sha}"]
    assert json.loads(third.cursor) == {str(repo): second_sha}


def test_sensor_watches_more_repositories_and_skips_hook_launched_commits(
        tmp_path, instance, monkeypatch):
    main = make_git_repo(tmp_path / "main", {"a.py": "x = 1\n"})
    other = make_git_repo(tmp_path / "other", {"b.py": "y = 1\n"},
                          remote="git@github.com:acme/other.git")
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv(WATCH_ENV, os.pathsep.join([str(other), str(plain)]))
    # A run the post-commit hook launched for `other`'s HEAD: the sensor must not repeat it.
    other_sha = git(other, "rev-parse", "HEAD")
    instance.add_run(dg.DagsterRun(job_name=ingest_job.name, run_id="hook-run",
                                   tags={REPO_TAG: "acme/other", COMMIT_TAG: other_sha}))
    result = evaluate(git_head_sensor, instance, None, main)
    assert [r.tags[REPO_TAG] for r in result.run_requests] == ["acme/widgets"]
    assert json.loads(result.cursor) == {str(main): git(main, "rev-parse", "HEAD"),
                                         str(other): other_sha}


def test_sensor_evaluation_never_fetches(tmp_path, instance, monkeypatch):
    """The sensor only runs local git commands: an unreachable origin changes nothing."""
    monkeypatch.delenv(WATCH_ENV, raising=False)
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"},
                         remote="https://unreachable.invalid/acme/widgets.git")
    result = evaluate(git_head_sensor, instance, None, repo)
    assert len(result.run_requests) == 1


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
    import importlib

    from codeintel_assets.defs import sensors

    monkeypatch.setenv("CODEINTEL_SENSORS", "off")
    assert sensors.default_status() == dg.DefaultSensorStatus.STOPPED
    monkeypatch.setenv("CODEINTEL_SENSORS", "on")
    assert importlib.reload(sensors).default_status() == dg.DefaultSensorStatus.RUNNING


def test_install_hook(tmp_path):
    repo = make_git_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    hook = install_hook(repo, "http://127.0.0.1:9")
    assert hook.stat().st_mode & stat.S_IXUSR
    text = hook.read_text()
    assert "-m codeintel_assets.trigger" in text and "http://127.0.0.1:9" in text
    assert install_hook(repo, "http://127.0.0.1:10") == hook  # ours: replaced
    hook.write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(TriggerError, match="not ours"):
        install_hook(repo)
    # No Dagster listening: the commit still succeeds (the hook never fails Git).
    hook.unlink()
    install_hook(repo, "http://127.0.0.1:9")
    write_files(repo, {"a.py": "x = 2\n"})
    git(repo, "commit", "-qam", "with hook")
