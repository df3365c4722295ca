"""A repository that only pushes ever reach: the real Dagster daemon (`dagster-daemon run`, its
sensors and declarative automation, with the tags they set) ingests it after each commit and
ends with every asset materialized, in both shapes; no run and no backfill fails.

The repository did not opt into tests on push, so the test steps never run its suite: they
keep their tables (empty on a first build) and say why, and everything downstream still
builds (risk_factors, the docs views). The daemon and everything it started are stopped by
process group. Sensor intervals are shortened with $CODEINTEL_POLL_S.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.execution.backfill import (
    BulkActionStatus,  # not exported by dagster 1.13
)

from codeintel_assets_tests.conftest import git, make_git_repo, write_files

BIN = Path(sys.executable).parent
FILES = {
    "pkg/__init__.py": "",
    "pkg/calc.py": "def add(a, b):\n    return a + b\n\n\ndef twice(a):\n    return add(a, a)\n",
    "tests/test_calc.py": "from pkg.calc import twice\n\n\ndef test_twice():\n"
                          "    assert twice(2) == 4\n",
}
# Whole seconds between sensor ticks, and how long one push may take to reach every table.
POLL_S = 3
PUSH_TIMEOUT_S = 900

MODULES = {"single": "codeintel_assets.definitions", "fleet": "codeintel_assets.fleet"}


def _instance_home(home: Path, shape: str, repos: list[Path]) -> dict[str, str]:
    """A Dagster home of its own (instance and workspace) and the environment its daemon
    runs with."""
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(textwrap.dedent("""\
        telemetry:
          enabled: false
        concurrency:
          pools:
            granularity: op
            default_limit: 1
        """))
    (home / "workspace.yaml").write_text(
        f"load_from:\n  - python_module:\n      module_name: {MODULES[shape]}\n"
        f"      location_name: {shape}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEINTEL_")}
    env.update(DAGSTER_HOME=str(home), CODEINTEL_POLL_S=str(POLL_S))
    if shape == "single":
        env.update(CODEINTEL_TARGET=str(repos[0]), CODEINTEL_DB=str(home / "ci.duckdb"))
    else:
        env.update(CODEINTEL_FLEET_HOME=str(home / "fleet"),
                   CODEINTEL_WATCH_FILE=str(home / "repositories.yaml"))
        (home / "repositories.yaml").write_text(f"repositories: [{', '.join(map(str, repos))}]\n")
    return env


def _all_assets(shape: str) -> set[dg.AssetKey]:
    from codeintel_assets.defs.shapes import build_definitions, fleet, single

    defs = build_definitions(single() if shape == "single" else fleet())
    return {s.key for s in defs.resolve_all_asset_specs()}


def _current(instance: dg.DagsterInstance, keys: set[dg.AssetKey], since: float,
             partitions: int) -> set[dg.AssetKey]:
    """The assets materialized after `since` for every partition (`partitions` of them in the
    fleet, 0 for the unpartitioned single shape)."""
    want = set(instance.get_dynamic_partitions("repositories")) if partitions else {None}
    if partitions and len(want) < partitions:
        return set()
    done = set()
    for k in keys:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=k, after_timestamp=since), limit=100).records
        if {r.partition_key for r in records} >= want:
            done.add(k)
    return done


def _wait_until_current(instance: dg.DagsterInstance, keys: set[dg.AssetKey], since: float,
                        partitions: int, daemon: subprocess.Popen, log: Path) -> float:
    """Seconds until every asset has a materialization after `since` (of every partition) and
    no run is in flight; fails with what is missing after PUSH_TIMEOUT_S."""
    deadline = time.time() + PUSH_TIMEOUT_S
    while time.time() < deadline:
        assert daemon.poll() is None, log.read_text()[-3000:]
        missing = keys - _current(instance, keys, since, partitions)
        busy = instance.get_run_records(filters=dg.RunsFilter(statuses=[
            dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
            dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]))
        # A backfill automation has requested but not yet launched is work in flight too.
        busy += [b for b in instance.get_backfills() if b.status == BulkActionStatus.REQUESTED]
        if not missing and not busy:
            return time.time() - since
        time.sleep(1)
    pytest.fail(f"not current after {PUSH_TIMEOUT_S}s: missing {sorted(map(str, missing))}; "
                f"daemon log tail:\n{log.read_text()[-3000:]}")


@pytest.mark.parametrize(("shape", "repositories", "pushes"),
                         [("single", 1, 1), ("fleet", 2, 2)])
def test_repositories_followed_only_by_pushes_get_every_table(tmp_path, shape, repositories,
                                                              pushes):
    repos = [make_git_repo(tmp_path / f"calc{i}", FILES) for i in range(repositories)]
    home = tmp_path / "dagster_home"
    env = _instance_home(home, shape, repos)
    keys = _all_assets(shape)
    log = tmp_path / "daemon.log"
    # The instance's storage is created before the daemon starts, so two processes never race
    # to create its SQLite schema.
    dg.DagsterInstance.from_config(str(home)).dispose()
    with open(log, "wb") as out:
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w",
                                   str(home / "workspace.yaml")],
                                  cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            partitions = repositories if shape == "fleet" else 0
            took = [_wait_until_current(instance, keys, time.time(), partitions, daemon, log)]
            for n in range(1, pushes):  # another push: every asset again, from its commit
                for repo in repos:
                    write_files(repo, {"pkg/calc.py": FILES["pkg/calc.py"] +
                                       f"\n\ndef times{n}(a):\n    return add(twice(a), a)\n"})
                    git(repo, "add", "-A")
                    git(repo, "commit", "-qm", f"push {n}")
                took.append(_wait_until_current(instance, keys, time.time(), partitions, daemon,
                                                log))
            runs = instance.get_run_records()
            backfills = instance.get_backfills()
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()
    print(f"{shape}: every asset current {', '.join(f'{s:.0f}' for s in took)} s after each "
          f"push; {len(runs)} runs, {len(backfills)} backfills")
    for b in backfills:
        print(f"  backfill {b.backfill_id} {b.status.value} {sorted(b.asset_selection or [])[:3]}")
    for r in sorted(runs, key=lambda r: r.create_timestamp):
        selection = r.dagster_run.asset_selection or set()
        print(f"  {r.create_timestamp.strftime('%H:%M:%S')} {r.dagster_run.job_name} "
              f"{len(selection)} assets: {sorted(k.to_user_string() for k in selection)[:6]}")

    # Started by the sensor and by automation only; no run and no backfill red.
    red = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED,
           dg.DagsterRunStatus.CANCELING)
    assert runs and not any(r.dagster_run.status in red for r in runs), \
        [(r.dagster_run.run_id, r.dagster_run.status) for r in runs]
    assert all(("dagster/sensor_name" in r.dagster_run.tags or
                "dagster/from_automation_condition" in r.dagster_run.tags or
                "dagster/backfill" in r.dagster_run.tags) for r in runs)
    # One more tick may have asked for another backfill before the daemon stopped: none is red.
    assert all(b.status in (BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.REQUESTED)
               for b in backfills), \
        [(b.backfill_id, b.status) for b in backfills]

    # Each warehouse has every table and view, of the last commit; the suite never ran.
    dbs = [home / "ci.duckdb"] if shape == "single" else \
        sorted((home / "fleet").rglob("*.duckdb"))
    assert len(dbs) == repositories
    for db in dbs:
        _assert_current(db, pushes)


def _assert_current(db: Path, pushes: int) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        def one(sql):
            return con.execute(sql).fetchall()[0]

        head = one("SELECT \"commit\" FROM core.repo_map")
        assert one("SELECT DISTINCT \"commit\" FROM analytics.goid_risk_factors") == head
        functions = 2 + pushes  # add, twice, test_twice, and one per later push
        newest = f"pkg.calc.times{pushes - 1}" if pushes > 1 else "pkg.calc.twice"
        assert one("SELECT count(*) FROM docs.v_function_summary WHERE qualname = "
                   f"'{newest}'") == (1,)
        assert one("SELECT count(*), count(*) FILTER (WHERE untested_reason = "
                   "'no_coverage_data') FROM analytics.coverage_functions") == \
            (functions, functions)
        assert one("SELECT count(*) FROM analytics.test_catalog") == (0,)
