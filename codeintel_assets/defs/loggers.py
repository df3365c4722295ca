"""Dagster loggers of an in-process run (`run.materialize`): Dagster's event log written to a
file, and Dagster's step events turned into `codeintel_assets.progress` events.

Loggers, not event-log queries, because a logger sees each record as it happens (the run's
result holds its events only once the run is over). The definitions are built per run around
objects that live in this process (an open file handler), which is why they are closures
rather than config-driven `@dg.logger`s: the file is closed when the run ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg

from codeintel_assets import progress

# The same layout as Dagster's console logger, without colours.
FILE_FORMAT = "%(asctime)s - dagster - %(levelname)s - %(message)s"
CONSOLE = "console"
FILE = "codeintel_file"
STEPS = "codeintel_steps"


@dataclass(frozen=True)
class RunLoggers:
    """Logger definitions to add to a job, and the `loggers` section of its run config."""

    defs: dict[str, dg.LoggerDefinition]
    config: dict


@contextlib.contextmanager
def run_loggers(log_file: str | os.PathLike | None, console: bool) -> Iterator[RunLoggers]:
    """The loggers of one run: Dagster's console logger at DEBUG when `console`, every record
    into `log_file` (appended) when given, and always the step-event logger (a no-op without
    a `progress` listener). Dagster uses only the loggers named in the run config, so leaving
    out `console` keeps its events off the terminal."""
    # A path that is not valid UTF-8 (a file named b"caf\xe9.py") reaches messages as a str
    # with surrogate escapes; the file shows its bytes as \xe9 rather than losing the record
    # to a "Logging error" traceback, as Python's own stderr does.
    handler = logging.FileHandler(log_file, encoding="utf-8", errors="backslashreplace") \
        if log_file else None
    # Dagster creates a run's loggers twice (run-level events, then the steps' context): one
    # StepEvents sees both, so the run's end knows the checks counted in the steps.
    steps = StepEvents()

    def steps_logger(init: dg.InitLoggerContext) -> logging.Logger:
        steps.job = init.job_def
        return _logger(STEPS, steps)

    try:
        defs: dict[str, dg.LoggerDefinition] = {STEPS: dg.LoggerDefinition(steps_logger)}
        config: dict = {STEPS: {}}
        if console:
            defs[CONSOLE] = dg.colored_console_logger
            config[CONSOLE] = {"config": {"log_level": "DEBUG"}}
        if handler is not None:
            handler.setFormatter(logging.Formatter(FILE_FORMAT))
            defs[FILE] = dg.LoggerDefinition(lambda init: _logger(FILE, handler))
            config[FILE] = {}
        yield RunLoggers(defs, config)
    finally:
        if handler is not None:
            handler.close()


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    # Not from logging.getLogger: a private logger per run, so runs never share handlers.
    logger = logging.Logger(f"codeintel.{name}", logging.DEBUG)
    logger.addHandler(handler)
    return logger


class StepEvents(logging.Handler):
    """Turns the records of a Dagster run into progress events: StepStarted and StepFinished
    (with rows per table from the materializations) for asset steps, CheckEvaluated for check
    steps, Notice for warnings and errors a step logs, and RunFinished."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.job: dg.JobDefinition | None = None  # the run's job, to tell check steps apart
        self._started: dict[str, float] = {}
        self._rows: dict[str, dict[str, int]] = {}
        self._checks = {True: 0, False: 0}
        self._run_started = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        # As logging's own handlers do: a failing listener reports and never fails the step.
        try:
            self._translate(record)
        except Exception:
            self.handleError(record)

    def _translate(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event, step = meta.get("dagster_event"), meta.get("step_key")
        if event is None:
            if record.levelno >= logging.WARNING:
                progress.emit(progress.Notice(step, record.levelname,
                                              meta.get("orig_message", record.getMessage())))
            return
        kind, data = event.event_type.name, event.event_specific_data
        if kind == "RUN_START":
            self._run_started = time.perf_counter()
        elif kind == "STEP_START":
            self._started[step] = time.perf_counter()
            if not self._is_check(event):
                progress.emit(progress.StepStarted(step))
        elif kind == "ASSET_MATERIALIZATION":
            materialization = data.materialization
            count = materialization.metadata.get("dagster/row_count")
            if count is not None:
                table = ".".join(materialization.asset_key.path)
                self._rows.setdefault(step, {})[table] = count.value
        elif kind == "ASSET_CHECK_EVALUATION":
            self._checks[data.passed] += 1
            said = {k: str(v.value) for k, v in data.metadata.items()
                    if k in ("measured", "threshold")}
            progress.emit(progress.CheckEvaluated(
                step, ".".join(data.asset_key.path), data.check_name, data.passed,
                data.severity.value, said.get("measured", ""), said.get("threshold", "")))
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            seconds = time.perf_counter() - self._started.pop(step, time.perf_counter())
            error = _error_line(data.error) if kind == "STEP_FAILURE" else None
            if error is not None or not self._is_check(event):
                progress.emit(progress.StepFinished(step, seconds, self._rows.pop(step, {}),
                                                    error))
        elif kind in ("RUN_SUCCESS", "RUN_FAILURE"):
            progress.emit(progress.RunFinished(
                kind == "RUN_SUCCESS", time.perf_counter() - self._run_started,
                self._checks[True], self._checks[False]))

    def _is_check(self, event) -> bool:
        """Whether the step runs asset checks only (no asset of its own)."""
        if self.job is None or event.node_handle is None:
            return False
        assets_def = self.job.asset_layer.get_assets_def_for_node(event.node_handle)
        return assets_def is not None and not assets_def.keys



def _error_line(error) -> str:
    """The innermost error's first line: Dagster wraps a step's exception in its own."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0] if error.message.strip() else "error"
