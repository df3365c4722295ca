"""Waiting for the warehouse file: the gateway's cross-process lock and DuckDB's own.

Two locks guard a DuckDB file. The gateway's (`<db>.lock`, an flock(2) lock through filelock)
serializes every gateway connection, reads and writes, across processes; while a gateway
holds it, a small JSON sidecar (`<db>.lock.holder`) says who: pid, host, what (a Dagster step,
`codeintel-assets query`, ...) and since when. DuckDB's own lock (taken when a connection
opens) can still be held by a process outside the gateway, a user's DuckDB shell say; DuckDB's
error then names that process.

Both waits are bounded and report who holds the lock every REPORT_EVERY_S seconds through a
callback, so a blocked step says why it is not moving and a timeout says whom to look at.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
from filelock import FileLock
from filelock import Timeout as FileLockTimeout

REPORT_EVERY_S = 5.0  # seconds between "still waiting" reports
_POLL_S = 0.05  # first retry delay of an open blocked by DuckDB's lock; doubles up to 1 s
_LOCK_POLL_S = 0.01  # how often a waiter tries the gateway lock (a cheap non-blocking flock)

# Files opened by open_duckdb in this process (each open costs 15-25 ms, the unit of an
# update's fixed cost); read through `duckdb_opens`.
_opens = [0]

# What a waiter is told: a one-line message.
Reporter = Callable[[str], None]


class LockTimeoutError(TimeoutError):
    """The warehouse file stayed locked longer than the caller's bound; the message names the
    lock, the holder (when known) and how long the caller waited."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a gateway lock: process id, host name, a label (`step repo_scan of run
    1a2b3c4d`, `codeintel-assets query`), the mode (`read` | `write`) and when it was taken
    (UTC, ISO 8601)."""

    pid: int
    host: str
    label: str
    mode: str
    started: str

    def describe(self) -> str:
        alive = "" if self.host != socket.gethostname() or _pid_alive(self.pid) else \
            " (that process is gone: the record is stale)"
        return (f"pid {self.pid} on {self.host} ({self.label or 'unlabelled'}, {self.mode}, "
                f"since {self.started}){alive}")


def default_label() -> str:
    """This process as a waiter would want to see it: the program and its first arguments."""
    argv = [os.path.basename(sys.argv[0] or "python"), *sys.argv[1:3]]
    return " ".join(argv)[:120]


class DatabaseLock:
    """The gateway lock of one database file: `<db>.lock`, the holder sidecar, and a
    turnstile (`<db>.lock.turn`) that makes the lock fair.

    flock(2) promises no order: a writer that releases and takes the lock again at once (one
    table after another) would win over a reader polling for it, for as long as it writes.
    So a waiter first takes the turnstile and keeps it until it has the lock; the holder's
    next acquisition queues behind it there. Not reentrant across instances: two instances on
    one file exclude each other, also within one process.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = Path(str(db_path) + ".lock")
        self.holder_path = Path(str(db_path) + ".lock.holder")
        self._lock = FileLock(str(self.path))
        self._turn = FileLock(str(db_path) + ".lock.turn")

    def holder(self) -> LockHolder | None:
        """The recorded holder, or None when there is no (readable) record."""
        try:
            return LockHolder(**json.loads(self.holder_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def describe_holder(self) -> str:
        holder = self.holder()
        return holder.describe() if holder else "an unrecorded holder (a process that took " \
            f"{self.path.name} without the gateway, e.g. flock(1))"

    def acquire(self, timeout_s: float, label: str, mode: str,
                report: Reporter | None = None) -> None:
        """Take the lock, waiting at most `timeout_s` seconds, and record this process as its
        holder. While waiting, `report` gets a message naming the holder every REPORT_EVERY_S
        seconds. Raises LockTimeoutError naming the holder."""
        started = time.monotonic()
        self._wait_for(self._turn, started, timeout_s, report)
        try:
            self._wait_for(self._lock, started, timeout_s, report)
        finally:
            self._turn.release()
        self._record(LockHolder(os.getpid(), socket.gethostname(), label, mode,
                                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))

    def _wait_for(self, lock: FileLock, started: float, timeout_s: float,
                  report: Reporter | None) -> None:
        next_report = started + REPORT_EVERY_S
        while True:
            now = time.monotonic()
            step = max(0.0, min(next_report, started + timeout_s) - now)
            try:
                lock.acquire(timeout=step, poll_interval=_LOCK_POLL_S)
                return
            except FileLockTimeout:
                waited = time.monotonic() - started
                if waited >= timeout_s:
                    raise LockTimeoutError(
                        f"{self.path} is held by {self.describe_holder()}; gave up after "
                        f"{waited:.0f} s (raise the wait, or see the README on locks)") from None
                if report is not None and time.monotonic() >= next_report:
                    report(f"waiting {waited:.0f} s for {self.path}: held by "
                           f"{self.describe_holder()}")
                    next_report += REPORT_EVERY_S

    def release(self) -> None:
        """Drop the holder record (if it is still ours) and the lock."""
        holder = self.holder()
        if holder is not None and holder.pid == os.getpid():
            try:
                self.holder_path.unlink()
            except OSError:
                pass  # a record left behind is overwritten by the next holder
        self._lock.release()

    def _record(self, holder: LockHolder) -> None:
        # Written aside and renamed, so a waiter never reads half a record.
        tmp = self.holder_path.with_name(f"{self.holder_path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(asdict(holder)))
            os.replace(tmp, self.holder_path)
        except OSError:
            pass  # the record only informs waiters; a full disk must not stop the lock


def duckdb_opens() -> int:
    """How many database files `open_duckdb` (every gateway connection) has opened in this
    process so far; a run's count is the difference across it."""
    return _opens[0]


def open_duckdb(path: Path, config: dict, timeout_s: float, read_only: bool = False,
                report: Reporter | None = None) -> duckdb.DuckDBPyConnection:
    """Connect to `path`, retrying with backoff while another process holds DuckDB's own file
    lock (a DuckDB shell outside the gateway), for at most `timeout_s` seconds. `report` gets
    DuckDB's message (which names the holding process) every REPORT_EVERY_S seconds. Raises
    LockTimeoutError when the lock stays taken; other IOExceptions at once."""
    started = time.monotonic()
    next_report, delay = started + REPORT_EVERY_S, _POLL_S
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
            _opens[0] += 1
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            waited = time.monotonic() - started
            if waited > timeout_s:
                raise LockTimeoutError(f"{path} is locked by a process outside the gateway; "
                                       f"gave up after {waited:.0f} s: {exc}") from exc
            if report is not None and time.monotonic() >= next_report:
                report(f"waiting {waited:.0f} s for DuckDB's lock on {path}: {exc}")
                next_report += REPORT_EVERY_S
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
