"""Run a per-file extractor across processes and collect Arrow tables.

An extractor is a module-level function `fn(job: FileJob) -> dict[table_name, list[row dict]]`.
Files are sent to worker processes in chunks; each worker turns its rows into Arrow against the
catalog (so conversion is parallel too) and the parent concatenates. An exception inside `fn`
becomes a `FileError` for that file and the other files' rows are kept. A worker that dies
(segfault, out of memory) breaks the pool: its unfinished chunks are retried one file per task
in a fresh pool, so only the file that kills a worker is lost, and it is reported.

A value Arrow cannot hold (a lone surrogate such as `'\\ud800'` in a string literal, an integer
out of its column's range) costs that value, set to NULL, or that row when the value is part of
the table's primary key; never the rest of the file. Each loss is a `DroppedValue`.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa

Extractor = Callable[["FileJob"], dict[str, list[dict]]]
ProgressFn = Callable[[int, int, float], None]

# Below this many files the process pool's start-up costs more than it saves.
INLINE_BELOW = 48

# CPU seconds worker processes spent in chunks for this process so far (benchmarks read it
# through `worker_cpu_s`; chunks run inline count in this process's own CPU time instead).
_worker_cpu = [0.0]


def worker_cpu_s() -> float:
    """CPU seconds (user + system) the worker processes of `run_extractor` calls made from
    this process have spent on their chunks so far; a step's share is the difference across
    it. Inline runs (one worker, few files) are not counted: they are this process's time."""
    return _worker_cpu[0]


@dataclass(frozen=True)
class FileJob:
    """One file to extract: identity columns every row carries, and where to read it."""

    repo: str
    commit: str
    rel_path: str
    abs_path: str
    module: str | None = None
    # core.file_state's parse_status and parse_error of the file: an extractor honours the
    # scan's verdict (too_large, binary) instead of judging the file by limits of its own.
    scan_status: str = "ok"
    scan_error: str | None = None


@dataclass(frozen=True)
class FileError:
    rel_path: str
    error: str


@dataclass(frozen=True)
class DroppedValue:
    """A value that could not be stored: `action` 'value' (stored as NULL) or 'row' (the row
    was left out: the value is part of the primary key); `reason` is Arrow's error."""

    rel_path: str
    table: str
    column: str
    action: str
    reason: str


@dataclass
class ExtractResult:
    tables: dict[str, pa.Table]
    errors: list[FileError] = field(default_factory=list)
    files: int = 0
    wall_s: float = 0.0
    dropped: list[DroppedValue] = field(default_factory=list)

    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def default_workers() -> int:
    return max(1, int(os.environ.get("CODEINTEL_WORKERS", "0")) or (os.cpu_count() or 1))


def run_extractor(
    fn: Extractor,
    jobs: Sequence[FileJob],
    schemas: Mapping[str, pa.Schema],
    workers: int | None = None,
    chunk_size: int = 16,
    progress: ProgressFn | None = None,
    keys: Mapping[str, Sequence[str]] | None = None,
) -> ExtractResult:
    """Apply `fn` to every job; return one Arrow table per entry of `schemas` (name -> schema;
    `catalog.schemas(...)` gives the catalog's), empty when no file produced rows. `keys` (name
    -> primary-key columns) decides whether an unstorable value costs its value or its row."""
    schemas = dict(schemas)
    shapes = {name: (schema, tuple((keys or {}).get(name, ()))) for name, schema in schemas.items()}
    tables = list(schemas)
    workers = workers or default_workers()
    started = time.perf_counter()
    parts: dict[str, list[pa.Table]] = {t: [] for t in tables}
    errors: list[FileError] = []
    dropped: list[DroppedValue] = []
    done = 0

    def collect(result: tuple[dict[str, pa.Table], list[FileError], list[DroppedValue]],
                n: int) -> None:
        nonlocal done
        batch, errs, drops = result
        for name, tbl in batch.items():
            parts[name].append(tbl)
        errors.extend(errs)
        dropped.extend(drops)
        done += n
        if progress:
            progress(done, len(jobs), time.perf_counter() - started)

    if workers <= 1 or len(jobs) < INLINE_BELOW:
        for chunk in _chunks(jobs, chunk_size):
            collect(_run_chunk(fn, shapes, chunk)[:3], len(chunk))
    else:
        # Largest files first: the pool's last chunks are then the quickest, so no worker
        # idles at the end while another finishes a large file (rows are collected in
        # completion order anyway).
        queue = deque(_chunks(sorted(jobs, key=_size, reverse=True), chunk_size))
        while queue:
            suspects = _run_pool(fn, shapes, queue, workers, collect)
            # A crash breaks the whole pool, so any chunk in flight may hold the culprit. Run
            # each suspect file alone in a pool of one: a second crash then names its file.
            for job in (job for chunk in suspects for job in chunk):
                if _run_pool(fn, shapes, deque([[job]]), 1, collect):
                    crash = FileError(job.rel_path, "worker process crashed on this file")
                    collect(({}, [crash], []), 1)

    out = {
        name: pa.concat_tables(parts[name]) if parts[name] else schemas[name].empty_table()
        for name in tables
    }
    return ExtractResult(out, errors, len(jobs), time.perf_counter() - started, dropped)


def _run_pool(fn, shapes, queue: deque, workers: int, collect) -> list[list[FileJob]]:
    """Run chunks from `queue` in a fresh pool, at most `workers` in flight at a time.

    Returns [] when the queue is drained. When a worker dies, returns the chunks that were in
    flight (the only ones that can hold the culprit) and leaves the rest in `queue`.
    """
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        in_flight: dict = {}
        while queue or in_flight:
            while queue and len(in_flight) < workers:
                chunk = queue.popleft()
                in_flight[pool.submit(_run_chunk, fn, shapes, chunk)] = chunk
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            lost = []
            for fut in finished:
                chunk = in_flight.pop(fut)
                try:
                    *result, cpu_s = fut.result()
                    _worker_cpu[0] += cpu_s
                    collect(tuple(result), len(chunk))
                except BrokenProcessPool:
                    lost.append(chunk)
                except Exception:  # the chunk's result did not come back (e.g. unpicklable)
                    lost.append(chunk)
            if lost:
                return lost + list(in_flight.values())
    return []


Shapes = dict[str, tuple[pa.Schema, tuple[str, ...]]]  # table -> (schema, primary key)
_UNSTORABLE = (pa.ArrowException, UnicodeError, ValueError, TypeError, OverflowError)


def _run_chunk(fn: Extractor, shapes: Shapes, chunk: Sequence[FileJob]):
    """(tables, errors, dropped values, CPU seconds spent) of one chunk."""
    started = time.process_time()
    tables, errors, dropped = _chunk_tables(fn, shapes, chunk)
    return tables, errors, dropped, time.process_time() - started


def _chunk_tables(fn: Extractor, shapes: Shapes, chunk: Sequence[FileJob]):
    produced: list[tuple[FileJob, dict[str, list[dict]]]] = []
    errors: list[FileError] = []
    for job in chunk:
        try:
            produced.append((job, fn(job)))
        except Exception as exc:  # one bad file must not lose the others
            errors.append(FileError(job.rel_path, f"{type(exc).__name__}: {exc}"))
    try:
        return _to_arrow(shapes, [rows for _, rows in produced]), errors, []
    except _UNSTORABLE:
        # A value Arrow refuses: find its rows and give up only those values (or rows).
        parts, dropped = [], []
        for job, rows in produced:
            try:
                parts.append(_to_arrow(shapes, [rows]))
            except _UNSTORABLE:
                kept = {name: _storable(job.rel_path, name, *shapes[name], table_rows, dropped)
                        for name, table_rows in rows.items()}
                parts.append(_to_arrow(shapes, [kept]))
        merged = {name: pa.concat_tables([p[name] for p in parts if name in p])
                  for name in shapes if any(name in p for p in parts)}
        return merged, errors, dropped


def _storable(rel_path: str, name: str, schema: pa.Schema, key: tuple[str, ...],
              rows: list[dict], dropped: list[DroppedValue]) -> list[dict]:
    """`rows` with each value Arrow refuses set to None, or without its row when the value is
    part of the key; every loss is appended to `dropped`."""
    kept = []
    for row in rows:
        try:
            pa.Table.from_pylist([row], schema=schema)
            kept.append(row)
            continue
        except _UNSTORABLE:
            pass
        fixed, lost_key = dict(row), False
        for f in schema:
            try:
                pa.array([row.get(f.name)], type=f.type)
            except _UNSTORABLE as exc:
                lost_key = lost_key or f.name in key
                dropped.append(DroppedValue(rel_path, name, f.name,
                                            "row" if f.name in key else "value",
                                            f"{type(exc).__name__}: {exc}"[:200]))
                fixed[f.name] = None
        if not lost_key:
            kept.append(fixed)
    return kept


def _to_arrow(shapes: Shapes, produced: list[dict[str, list[dict]]]):
    rows: dict[str, list[dict]] = {t: [] for t in shapes}
    for file_rows in produced:
        for name, r in file_rows.items():
            rows[name].extend(r)
    return {name: pa.Table.from_pylist(r, schema=shapes[name][0])
            for name, r in rows.items() if r}


def _size(job: FileJob) -> int:
    """The file's size in bytes (0 when it cannot be read: its worker reports that)."""
    try:
        return os.path.getsize(job.abs_path)
    except OSError:
        return 0


def _chunks(items: Sequence[FileJob], size: int) -> list[list[FileJob]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off inside, restored after (and only if it was on). For
    work that allocates hundreds of thousands of acyclic objects (a file's syntax trees and
    rows, the call graph's sites): the collections they trigger find almost nothing yet cost
    15-33% of the time (measured on django); the few cycles are collected later."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            gc.enable()
