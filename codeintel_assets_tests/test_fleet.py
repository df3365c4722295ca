"""The fleet shape: partition keys, the watch list, the registry, the catalog over every
partition, a user's own SQL asset on dagster-duckdb's DuckDBResource (in both shapes), and the
fleet through the CLIs (`dagster asset materialize --partition`, `codeintel-assets --fleet`)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from codeintel_assets import run
from codeintel_assets.defs.sensors import fleet_sensor, watch_file
from codeintel_assets.defs.shapes import REPOSITORIES
from codeintel_assets.fleet import NO_PARTITION
from codeintel_assets.storage.fleet import (
    Checkout,
    FleetError,
    Registry,
    partition_db,
    partition_key,
    watch_list,
)
from codeintel_assets.storage.fleet_catalog import open_catalog
from codeintel_assets.storage.locking import DatabaseLock, LockTimeoutError
from codeintel_assets_tests.conftest import (
    git,
    make_git_repo,
    project_copy,
    readme_commands,
    rows,
    stray_paths,
)


def test_partition_keys_are_readable_and_unique_per_checkout(tmp_path):
    one, two = tmp_path / "a" / "Click", tmp_path / "b" / "Click"
    assert partition_key(one).startswith("click-") and partition_key(two).startswith("click-")
    assert partition_key(one) != partition_key(two)
    assert partition_key(one) == partition_key(str(one) + "/")  # the same folder, one key
    one.mkdir(parents=True)
    (tmp_path / "link").symlink_to(one)
    assert partition_key(tmp_path / "link") == partition_key(one)  # however it is named


def test_watch_list(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    watch = tmp_path / "conf" / "repositories.yaml"
    watch.write_text("repositories:\n  - ../one\n  - {root: /srv/two, run_tests: true}\n"
                     "  - ../one\n")
    got = watch_list(watch, os.pathsep.join([str(tmp_path / "three"), "/srv/two"]))
    assert got == [Checkout(str(tmp_path / "one")), Checkout("/srv/two", True),
                   Checkout(str(tmp_path / "three"))]
    assert watch_list(tmp_path / "missing.yaml", "") == []
    for bad, message in [("repositories: {a: 1}\n", "expected `repositories:`"),
                         ("repositories:\n  - {root: x, tests: 1}\n", r"repositories\[0\]"),
                         ("repositories: [unclosed\n", "not valid YAML")]:
        watch.write_text(bad)
        with pytest.raises(FleetError, match=message):
            watch_list(watch)


def test_the_watch_list_beside_the_fleets_instance_from_any_cwd(tmp_path, monkeypatch):
    """DAGSTER_HOME=<project>/fleet/.dagster finds <project>/fleet/repositories.yaml wherever
    Dagster was started."""
    (tmp_path / "project" / "fleet" / ".dagster").mkdir(parents=True)
    watch = tmp_path / "project" / "fleet" / "repositories.yaml"
    watch.write_text("repositories: []\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.delenv("CODEINTEL_WATCH_FILE", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "project" / "fleet" / ".dagster"))
    assert watch_file() == str(watch)


def test_registry_sync_and_unknown_partition(tmp_path):
    registry = Registry(tmp_path / "home")
    one, two = Checkout("/srv/one"), Checkout("/srv/two", True)
    assert registry.sync([one, two]) == (sorted([one.key, two.key]), [])
    assert registry.sync([two]) == ([], [one.key])
    assert registry.get(two.key) == two
    with pytest.raises(FleetError, match="not in the fleet registry"):
        registry.get(one.key)
    registry.path.write_text("[1, 2]")
    with pytest.raises(FleetError, match="not a fleet registry"):
        registry.load()


def test_registering_by_hand_keeps_settings_and_survives_the_sensor(tmp_path):
    """A one-off run never clears a watch list's opt-in, and a checkout registered by hand is
    not removed by the sensor's sync (until the watch list names it: then it is watched)."""
    registry = Registry(tmp_path / "home")
    watched = Checkout(str(tmp_path / "w"), run_tests=True)
    registry.sync([watched])
    assert registry.register(str(tmp_path / "w")) == watched           # kept as it was
    assert registry.register(str(tmp_path / "w"), run_tests=False).run_tests is False
    manual = registry.register(str(tmp_path / "m"))
    assert manual.by_hand and not manual.run_tests
    assert registry.sync([watched]) == ([], [])
    assert set(registry.load()) == {watched.key, manual.key}
    registry.sync([watched, Checkout(manual.root)])
    assert registry.get(manual.key) == Checkout(manual.root)


def _register_at_once(home: Path, root: str, start) -> None:
    start.wait()  # every process reads the registry at about the same moment
    Registry(home).register(root)


def test_registering_from_many_processes_at_once_loses_no_entry(tmp_path):
    """Registering is one read-modify-write under one lock: processes registering at once
    (the sensor, `materialize --fleet` runs) never drop each other's entries."""
    fork = multiprocessing.get_context("fork")  # the child needs no dagster: fork is cheap
    for trial in range(3):
        home = tmp_path / f"home{trial}"
        roots = [str(tmp_path / f"r{trial}-{n}") for n in range(12)]
        start = fork.Barrier(len(roots))
        procs = [fork.Process(target=_register_at_once, args=(home, r, start)) for r in roots]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0] * len(roots)
        assert sorted(c.root for c in Registry(home).load().values()) == sorted(roots)


def test_the_fleet_warehouse_is_only_a_partitions(tmp_path):
    from codeintel_assets.defs.resources import TargetRepo, Warehouse

    warehouse = Warehouse(target=TargetRepo(root=str(tmp_path), fleet_home=str(tmp_path)))
    with pytest.raises(ValueError, match="partition"):
        warehouse.db_file()  # never <cwd>/.codeintel/codeintel.duckdb


def test_a_fleet_run_of_an_unknown_partition_fails_clearly(sample_repo, tmp_path):
    home = tmp_path / "home"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(REPOSITORIES.name, ["ghost-00000000"])
        job = run.definitions(run.Shape("fleet", str(home))) \
            .resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(instance=instance, partition_key="ghost-00000000",
                                        asset_selection=[dg.AssetKey(["core", "file_state"])],
                                        raise_on_error=False)
    assert not result.success
    assert "not in the fleet registry" in str(result.all_events)


def test_catalog_waits_for_a_partition_being_written(sample_repo, tmp_path):
    home = tmp_path / "home"
    assert run.materialize("core/file_state", target=str(sample_repo), tools=[],
                           fleet=str(home)).success
    lock = DatabaseLock(partition_db(home.resolve(), partition_key(sample_repo)))
    lock.acquire(5, "a test writer", "write")
    try:
        with pytest.raises(LockTimeoutError, match="a test writer"):
            run.query("SELECT count(*) FROM core.file_state", fleet=str(home), timeout_s=0.5)
    finally:
        lock.release()
    assert run.query("SELECT count(*) AS n FROM core.file_state",
                     fleet=str(home)).to_pylist() == [{"n": 11}]
    # Read-only: a statement that is not a query is refused before anything runs, and the
    # attached files behind the views are read-only anyway.
    with pytest.raises(duckdb.PermissionException, match="DELETE statements are refused"):
        run.query("DELETE FROM core.file_state", fleet=str(home))
    with open_catalog(home.resolve(), 5) as con:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM p_0.core.file_state")
    # Nor can a query attach a partition read-write past its lock, or write files.
    file = partition_db(home.resolve(), partition_key(sample_repo))
    with pytest.raises(duckdb.PermissionException, match="ATTACH, DETACH statements"):
        run.query(f"DETACH p_0; ATTACH '{file}' AS rw", fleet=str(home))
    with pytest.raises(duckdb.Error, match="COPY"):
        run.query(f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'", fleet=str(home))
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        run.query("SELECT * FROM read_csv('/etc/hostname')", fleet=str(home))
    assert not (tmp_path / "out.csv").exists()


@dg.asset(key=["reports", "largest_files"], deps=[dg.AssetKey(["core", "file_state"])],
          kinds={"duckdb", "sql"}, description="The three largest files of the repository.")
def largest_files(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """A user's own SQL asset, as the README shows it."""
    with duckdb.get_connection() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS reports")
        con.execute("CREATE OR REPLACE TABLE reports.largest_files AS "
                    "SELECT repo, rel_path, size_bytes FROM core.file_state "
                    "ORDER BY size_bytes DESC, rel_path LIMIT 3")
        (count,) = con.execute("SELECT count(*) FROM reports.largest_files").fetchone()
    return dg.MaterializeResult(metadata={"dagster/row_count": count})


def test_a_users_sql_asset_on_duckdb_resource(sample_repo, tmp_path, shape):
    """DuckDBResource over the warehouse: the user's table lands beside ours (in the fleet,
    in the partition's file) and the catalog shows it across the fleet."""
    db = tmp_path / "u.duckdb"
    result = shape.materialize("core/file_state,reports/largest_files", sample_repo, db,
                               tools=[], extra_assets=(largest_files,))
    assert result.success
    file = shape.db_of(sample_repo, db)
    assert len(rows(file, "SELECT * FROM reports.largest_files")) == 3
    assert rows(file, "SELECT max(size_bytes) FROM core.file_state") == \
        rows(file, "SELECT max(size_bytes) FROM reports.largest_files")
    if shape.name == "fleet":
        (event,) = [e for e in result.get_asset_materialization_events()
                    if e.asset_key.path == ["reports", "largest_files"]]
        assert event.partition == partition_key(sample_repo)
        found = run.query("SELECT DISTINCT partition FROM reports.largest_files",
                          fleet=shape.home(db))
        assert found.column(0).to_pylist() == [partition_key(sample_repo)]


def _sh(command: str, env: dict, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    """`command` in bash (as a user types it, $PWD and all) in `cwd`; asserts exit 0 if `ok`."""
    proc = subprocess.run(["bash", "-c", command], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=420)
    assert (proc.returncode == 0) == ok, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _sensor_tick(project: Path, home: Path, monkeypatch) -> None:
    """One tick of the fleet sensor against the fleet's instance of `project`, its partition
    requests applied as the daemon applies them (the README's `dagster dev` runs the daemon)."""
    monkeypatch.setenv("CODEINTEL_WATCH_FILE", str(project / "fleet" / "repositories.yaml"))
    monkeypatch.delenv("CODEINTEL_WATCH_REPOS", raising=False)
    sensor = fleet_sensor(REPOSITORIES, str(home))
    with dg.DagsterInstance.from_config(str(project / "fleet" / ".dagster")) as instance:
        result = sensor(dg.build_sensor_context(instance=instance))
        for request in result.dynamic_partitions_requests:
            assert isinstance(request, dg.AddDynamicPartitionsRequest)
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)


def test_the_readmes_fleet_commands(tmp_path, monkeypatch):
    """The README's fleet commands, as written, from the root of a checkout (a copy):
    `codeintel-assets materialize --fleet` registers and ingests two clones of one remote;
    `codeintel-assets partitions` lists both keys with their checkout and commit; after the
    sensor's tick `dagster asset materialize -m codeintel_assets.fleet --select
    'core/ast_nodes+' --partition KEY` refreshes one partition (without --partition: one line
    naming `partitions`), whose GOIDs `codeintel-assets query --fleet` sees. All of Dagster's
    state stays in the ignored fleet/.dagster: nothing else appears in the checkout."""
    one = make_git_repo(tmp_path / "one" / "w", {"a.py": "def f():\n    return 1\n"})
    two = make_git_repo(tmp_path / "two" / "w", {"b.py": "class B:\n    pass\n"})
    project, home = project_copy(tmp_path / "project"), tmp_path / "fleet"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEINTEL", "DAGSTER"))}
    env.update(CODEINTEL_FLEET_HOME=str(home))
    commands = [c for c in readme_commands("codeintel_assets.fleet") if " dev" not in c]
    materialize, query, keys, dagster_cli = commands
    # Narrowed to the repo_scan tables and no tests (the rest is tested elsewhere); `one`'s
    # repo_map records the commit `partitions` shows.
    for repo, tables in ((one, "core/file_state,core/repo_map"), (two, "core/file_state")):
        _sh(f"{materialize.replace('/srv/django', str(repo))} --select {tables} "
            "--skip-tool tests", env, project)
    _sensor_tick(project, home, monkeypatch)
    listed = _sh(keys, env, project).stdout.splitlines()
    assert listed[1:] == sorted([  # registered by `materialize --fleet`, not the watch list
        f"{partition_key(one)}  no         {git(one, 'rev-parse', 'HEAD')[:12]}  "
        f"{os.path.realpath(one)} (registered by hand)",
        f"{partition_key(two)}  no         -             {os.path.realpath(two)} "
        "(registered by hand)"])

    proc = _sh(dagster_cli.replace("django-1a2b3c4d", partition_key(two)), env, project)
    assert 'Started execution of step "goids"' in proc.stdout + proc.stderr
    assert rows(partition_db(home, partition_key(two)), "SELECT qualname FROM core.goids "
                "ORDER BY 1") == [("b",), ("b.B",)]
    # The other partition's file was not touched: it still holds only what the CLI wrote.
    assert rows(partition_db(home, partition_key(one)),
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1") == [
        ("core.file_state",), ("core.repo_map",)]
    assert partition_key(two) in _sh(query, env, project).stdout

    # Without --partition Dagster refuses the fleet: the fleet location says why in one line.
    refused = _sh(dagster_cli.split(" --partition")[0], env, project, ok=False)
    assert refused.stderr.strip().splitlines()[-1] == NO_PARTITION
    assert "Traceback" not in refused.stderr

    assert (project / "fleet" / ".dagster" / "history" / "runs.db").is_file()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert stray_paths(project) == []
