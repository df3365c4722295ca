"""Progress of a run: what the steps report while they work, as typed events and plain lines.

Two sources feed one stream of events:

- the steps themselves, through `files_progress` (files parsed of total, per chunk) and
  `heartbeat` (a tool running, every few seconds). Each writes its line to the step's logger
  (Dagster's `context.log`) at INFO, so the Dagster UI's run log shows it, and hands the event
  to the in-process listener when one is installed (`listening`);
- Dagster's own events (step start, success or failure, materializations with their row
  counts, check evaluations), which `defs/loggers.py` turns into these events in a Dagster
  logger, because only Dagster knows when a step starts and ends.

The listener is the CLI's terminal renderer (`codeintel_assets.console`). Why a listener
rather than routing everything through a Dagster logger: a live bar wants every chunk, but the
run log should get a line only every few seconds; the listener gets every update without
writing them to the event log. With the in-process executor the steps run in the CLI's
process (heartbeats in their own threads), so a module-level listener reaches them.

This module does not import Dagster: the logger it is given needs only `.info(str)`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

PROGRESS_EVERY_S = 5.0   # a files-done line in the run log at most this often
HEARTBEAT_EVERY_S = 5.0  # a "tool still running" line this often


class InfoLog(Protocol):
    def info(self, msg: str) -> None: ...


@dataclass(frozen=True)
class StepStarted:
    step: str

    def line(self) -> str | None:
        return f"start {self.step}"


@dataclass(frozen=True)
class StepFinished:
    """A step ended: `seconds` of wall time; `rows` maps each table it wrote to the
    repository's rows in that table after the write; `error` is set when it failed."""

    step: str
    seconds: float
    rows: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None

    def line(self) -> str | None:
        if self.error is not None:
            return f"failed {self.step} {self.seconds:.1f}s: {self.error}"
        rows = ", ".join(f"{t}={n}" for t, n in self.rows.items())
        return f"done {self.step} {self.seconds:.1f}s" + (f" rows: {rows}" if rows else "")


@dataclass(frozen=True)
class FilesDone:
    """`done` of `total` files parsed after `elapsed_s` seconds by the extraction `label` of
    `step` (a step may run several, e.g. string_literals then config_ingest). `due` is True
    for the updates that are also lines in the run log (every PROGRESS_EVERY_S, and the last)."""

    step: str
    label: str
    done: int
    total: int
    elapsed_s: float
    due: bool

    @property
    def files_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str | None:
        if not self.due:
            return None
        return (f"{self.label} {self.done}/{self.total} files ({self.files_per_s:.0f} files/s, "
                f"{self.elapsed_s:.1f}s)")


@dataclass(frozen=True)
class ToolStatus:
    """An external tool of `step`: state 'started', 'running' (a heartbeat), 'finished' or
    'failed', `elapsed_s` seconds after it started."""

    step: str
    tool: str
    state: str
    elapsed_s: float

    def line(self) -> str | None:
        if self.state == "started":
            return f"tool {self.tool} started"
        if self.state == "running":
            return f"tool {self.tool} running {self.elapsed_s:.0f}s"
        return f"tool {self.tool} {self.state} after {self.elapsed_s:.1f}s"


@dataclass(frozen=True)
class CheckEvaluated:
    """An asset check's result; only a failed check is a line (passes are counted)."""

    step: str
    table: str
    check: str
    passed: bool
    severity: str
    measured: str = ""  # the check's numbers in words (its metadata's `measured`)
    threshold: str = ""  # when it passes, and why (its metadata's `threshold`)

    def line(self) -> str | None:
        if self.passed:
            return None
        detail = f": {self.measured}" if self.measured else ""
        detail += f" (passes with {self.threshold})" if self.threshold else ""
        return f"check failed ({self.severity}): {self.table} {self.check}{detail}"


@dataclass(frozen=True)
class Notice:
    """A warning or error a step logged (a bad file, a skipped tool, an abandoned step)."""

    step: str | None
    level: str
    message: str

    def line(self) -> str | None:
        return f"{self.level.lower()} {self.step or 'run'}: {self.message}"


@dataclass(frozen=True)
class RunFinished:
    success: bool
    seconds: float
    checks_passed: int
    checks_failed: int

    def line(self) -> str | None:
        outcome = "finished" if self.success else "failed"
        return (f"run {outcome} after {self.seconds:.1f}s; checks: {self.checks_passed} passed, "
                f"{self.checks_failed} failed")


Event = StepStarted | StepFinished | FilesDone | ToolStatus | CheckEvaluated | Notice | RunFinished
Listener = Callable[[Event], None]

_listener: Listener | None = None


@contextlib.contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Send every event of this process to `listener` while the block runs (None: to nobody).
    The listener is called from step threads too and must be thread-safe."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


def emit(event: Event) -> None:
    """Hand `event` to the installed listener, if any."""
    listener = _listener
    if listener is not None:
        listener(event)


def files_progress(log: InfoLog, step: str, label: str,
                   every_s: float = PROGRESS_EVERY_S) -> Callable[[int, int, float], None]:
    """A progress callback for `extract.parallel.run_extractor` (done, total, elapsed seconds):
    emits every update, and logs a line at most every `every_s` seconds and at the end."""
    last = [0.0]

    def report(done: int, total: int, elapsed: float) -> None:
        due = done == total or elapsed - last[0] >= every_s
        if due:
            last[0] = elapsed
        event = FilesDone(step, label, done, total, elapsed, due)
        if due:
            log.info(event.line())
        emit(event)
    return report


@contextlib.contextmanager
def heartbeat(log: InfoLog, step: str, tool: str,
              every_s: float = HEARTBEAT_EVERY_S) -> Iterator[None]:
    """Report `tool` as running while the block runs: a line when it starts, one every
    `every_s` seconds from a daemon thread, and one when it finishes or raises. The thread is
    stopped and joined before the block's exit proceeds."""
    started = time.perf_counter()

    def report(state: str) -> None:
        event = ToolStatus(step, tool, state, time.perf_counter() - started)
        log.info(event.line())
        emit(event)

    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            report("running")

    report("started")
    thread = threading.Thread(target=beat, name=f"heartbeat-{step}-{tool}", daemon=True)
    thread.start()
    state = "failed"
    try:
        yield
        state = "finished"
    finally:
        stop.set()
        thread.join()
        report(state)
