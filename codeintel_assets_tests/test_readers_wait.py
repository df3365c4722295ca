"""Readers wait for writers instead of failing, and every wait names who holds the lock.

Real processes hold real locks: a writer process writing through the gateway, a process
holding the gateway lock, a DuckDB connection opened outside the gateway.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from codeintel_assets import cli, run
from codeintel_assets.storage import locking
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import LockTimeoutError, StorageGateway
from codeintel_assets_tests.test_gateway import file_batch

FILE_STATE = table("core.file_state")
COUNT = "SELECT count(*) AS n FROM core.file_state"


def _writer(db: str, rounds: int, ready) -> None:
    """Replace one repository's rows `rounds` times with 30,000 rows each, back to back:
    every write holds the lock (and DuckDB's) for a noticeable time."""
    gw = StorageGateway(Path(db), lock_timeout_s=120, label="test writer")
    batches = [file_batch("acme/a", [f"pkg/m{i}_{k}.py" for k in range(30_000)], tag=f"r{i}")
               for i in range(2)]
    ready.set()
    for i in range(rounds):
        gw.replace_repo_rows(FILE_STATE, "acme/a", batches[i % 2])


def test_a_reader_loop_during_writes_never_fails(tmp_path):
    db = tmp_path / "wh" / "codeintel.duckdb"
    StorageGateway(db).replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    writer = ctx.Process(target=_writer, args=(str(db), 40, ready))
    writer.start()
    assert ready.wait(120)

    waits, failures, outside_failures = [], [], 0
    while writer.is_alive():
        started = time.monotonic()
        try:
            n = run.query(COUNT, target=str(tmp_path), db=str(db)).column("n")[0].as_py()
            assert n in (1, 30_000)  # old or new rows, never a partial write
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            failures.append(repr(exc))
        waits.append(time.monotonic() - started)
        # What the README warns about: a bare read-only open during a write fails at once.
        try:
            duckdb.connect(str(db), read_only=True).close()
        except duckdb.IOException:
            outside_failures += 1
        time.sleep(0.05)
    writer.join(60)

    assert writer.exitcode == 0
    assert failures == []
    assert len(waits) >= 10
    print(f"\nreader loop: {len(waits)} queries, 0 failures, worst wait {max(waits):.2f} s, "
          f"bare read-only opens failed {outside_failures} times")


HOLDER = """
import sys, time
from pathlib import Path
from codeintel_assets.storage.gateway import StorageGateway
gw = StorageGateway(Path(sys.argv[1]), label="test holder")
with gw.connect():
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(db: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_the_lock_holder_is_recorded_and_named_when_a_reader_gives_up(tmp_path):
    db = tmp_path / "codeintel.duckdb"
    StorageGateway(db).replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    holder = _hold(db, 3)
    try:
        record = json.loads(Path(str(db) + ".lock.holder").read_text())
        assert record["pid"] == holder.pid and record["label"] == "test holder"
        assert record["mode"] == "write" and record["started"]
        reader = StorageGateway(db, read_timeout_s=0.5)
        with pytest.raises(LockTimeoutError) as caught:
            reader.read_query(COUNT)
        assert f"pid {holder.pid}" in str(caught.value)
        assert "test holder" in str(caught.value)
    finally:
        holder.wait(30)
    # Released: the record is gone and the next reader gets in at once.
    assert not Path(str(db) + ".lock.holder").exists()
    assert StorageGateway(db, read_timeout_s=0.5).read_query(COUNT).column("n")[0].as_py() == 1


def test_a_waiting_reader_reports_the_holder_every_few_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(locking, "REPORT_EVERY_S", 0.3)
    db = tmp_path / "codeintel.duckdb"
    StorageGateway(db).replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    holder = _hold(db, 1.5)
    messages: list[str] = []
    try:
        reader = StorageGateway(db, read_timeout_s=30, report=messages.append)
        assert reader.read_query(COUNT).column("n")[0].as_py() == 1
    finally:
        holder.wait(30)
    assert len(messages) >= 2
    assert all(f"pid {holder.pid}" in m and "test holder" in m for m in messages)


def test_a_writer_blocked_by_an_outside_duckdb_process_reports_it(tmp_path, monkeypatch):
    monkeypatch.setattr(locking, "REPORT_EVERY_S", 0.3)
    db = tmp_path / "codeintel.duckdb"
    gw = StorageGateway(db, lock_timeout_s=60)
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    code = (f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only=True); "
            "print('open', flush=True); time.sleep(1.5); c.close()")
    outside = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert outside.stdout.readline().strip() == "open"
    messages: list[str] = []
    gw.report = messages.append
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py", "b.py"]))
    outside.wait(30)
    assert messages, "the writer waited silently"
    # DuckDB's own message names the process holding its lock.
    assert any(str(outside.pid) in m for m in messages), messages


def test_query_command_prints_a_table(tmp_path, capsys):
    db = tmp_path / "codeintel.duckdb"
    StorageGateway(db).replace_repo_rows(FILE_STATE, "acme/a",
                                         file_batch("acme/a", ["a.py", "b.py"]))
    code = cli.main(["query", "SELECT rel_path FROM core.file_state ORDER BY 1",
                     "--db", str(db), "--target", str(tmp_path)])
    out = capsys.readouterr()
    assert code == 0
    assert "rel_path" in out.out and "a.py" in out.out and "b.py" in out.out
    # Read-only: a query cannot change the warehouse.
    code = cli.main(["query", "DELETE FROM core.file_state", "--db", str(db),
                     "--target", str(tmp_path)])
    assert code == 1 and "read-only" in capsys.readouterr().err.lower()
    assert run.query(COUNT, target=str(tmp_path), db=str(db)).equals(
        pa.table({"n": pa.array([2], pa.int64())}))
    # No database yet: a clear error, and nothing is created.
    missing = tmp_path / "none" / "x.duckdb"
    assert cli.main(["query", "SELECT 1", "--db", str(missing)]) == 1
    assert "materialize first" in capsys.readouterr().err
    assert not missing.exists()


def test_the_holder_record_of_a_killed_process_is_called_stale(tmp_path):
    db = tmp_path / "codeintel.duckdb"
    StorageGateway(db).replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    holder = _hold(db, 60)
    holder.kill()
    holder.wait(30)
    lock = locking.DatabaseLock(db)
    assert "stale" in lock.describe_holder() and str(holder.pid) in lock.describe_holder()
    # The OS released the dead process's lock: the next reader is not blocked by the record.
    assert StorageGateway(db, read_timeout_s=5).read_query(COUNT).column("n")[0].as_py() == 1


def test_threads_of_one_process_take_turns(tmp_path):
    """Two gateways on one file in one process exclude each other (flock per open file)."""
    db = tmp_path / "codeintel.duckdb"
    StorageGateway(db).replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    inside = threading.Event()
    order: list[str] = []

    def hold() -> None:
        with StorageGateway(db).connect():
            order.append("holder in")
            inside.set()
            time.sleep(0.5)
            order.append("holder out")

    thread = threading.Thread(target=hold)
    thread.start()
    inside.wait(10)
    StorageGateway(db, read_timeout_s=10).read_query(COUNT)
    order.append("reader done")
    thread.join()
    assert order == ["holder in", "holder out", "reader done"]
    assert os.path.exists(str(db) + ".lock")
