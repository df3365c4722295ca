"""The terminal view of a run's progress events (`codeintel_assets.progress`) for
`codeintel-assets materialize`.

On a terminal: a rich live display, with the lines of `progress` (step started and done with
its rows, tools started and finished, warnings, failed checks) printed above a row per running
step (a bar of files done of total with files/s while it parses files) and per running tool
(its elapsed time). Elsewhere (a pipe, CI, TERM=dumb): the same lines as plain text, with the
periodic progress lines and a tool's heartbeat once a minute instead of bars, and no escape
codes.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from codeintel_assets.progress import (
    CheckEvaluated,
    Event,
    FilesDone,
    Notice,
    RunFinished,
    StepFinished,
    StepStarted,
    ToolStatus,
)


def view(stream: TextIO | None = None) -> LiveView | PlainView:
    """The view for `stream` (default stderr, so stdout keeps only the run's report): live on
    a terminal, plain lines otherwise. Use as a context manager; it is the progress listener."""
    stream = stream or sys.stderr
    console = Console(file=stream)
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveView(console)
    return PlainView(stream)


# Off a terminal a tool's "still running" line is printed at most this often: a log file or a
# CI page wants a sign of life, not scip-python's 150 heartbeats over a long index.
PLAIN_HEARTBEAT_EVERY_S = 60.0


class PlainView:
    """Every event that has a line, one per line, flushed at once; of a tool's heartbeats,
    one per PLAIN_HEARTBEAT_EVERY_S."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._lock = threading.Lock()  # heartbeats print from their own threads
        self._beats: dict[tuple[str, str], int] = {}  # (step, tool) -> last minute printed

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, event: Event) -> None:
        line = event.line()
        if line is None:
            return
        with self._lock:
            if isinstance(event, ToolStatus) and event.state == "running":
                slot = int(event.elapsed_s // PLAIN_HEARTBEAT_EVERY_S)
                if slot == 0 or self._beats.get((event.step, event.tool)) == slot:
                    return
                self._beats[event.step, event.tool] = slot
            print(line, file=self._stream, flush=True)


class LiveView:
    """Lines above a rich Progress display; the bars disappear when the run ends."""

    def __init__(self, console: Console):
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=30),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
            console=console, transient=True)
        self._tasks: dict[tuple[str, str], TaskID] = {}  # (step, tool or "") -> its row
        self._lock = threading.Lock()

    def __enter__(self) -> LiveView:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, StepStarted):
                self._row(event.step, "", event.step)
            elif isinstance(event, FilesDone):
                label = event.step if event.label == event.step else \
                    f"{event.step} · {event.label}"
                self._progress.update(
                    self._row(event.step, "", label), description=label, total=event.total,
                    completed=event.done,
                    detail=f"{event.done}/{event.total} files · {event.files_per_s:.0f} files/s")
                return  # the bar is the line
            elif isinstance(event, ToolStatus):
                if event.state == "running":
                    return  # the row's elapsed time is the heartbeat
                if event.state == "started":
                    self._row(event.step, event.tool, f"{event.step} · {event.tool}", "running")
                else:
                    self._drop(lambda key: key == (event.step, event.tool))
            elif isinstance(event, StepFinished):
                self._drop(lambda key: key[0] == event.step)
            line = event.line()
            if line is not None:
                self._progress.console.print(Text(line, style=_style(event)))

    def _row(self, step: str, tool: str, description: str, detail: str = "") -> TaskID:
        if (step, tool) not in self._tasks:
            self._tasks[step, tool] = self._progress.add_task(description, total=None,
                                                              detail=detail)
        return self._tasks[step, tool]

    def _drop(self, matches) -> None:
        for key in [k for k in self._tasks if matches(k)]:
            self._progress.remove_task(self._tasks.pop(key))


def _style(event: Event) -> str:
    if isinstance(event, StepFinished):
        return "red" if event.error is not None else "green"
    if isinstance(event, Notice):
        return "yellow" if event.level == "WARNING" else "red"
    if isinstance(event, ToolStatus) and event.state == "failed":
        return "red"
    if isinstance(event, CheckEvaluated):
        return "red"  # only failed checks have a line
    return "bold" if isinstance(event, RunFinished) else ""
