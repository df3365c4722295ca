"""`codeintel-assets query` and `run.query`: a user's read-only SQL on the warehouse (one
target's DuckDB file, or the fleet catalog over every partition), bounded in time, and its
result drawn as a table or written as CSV, JSON lines or Parquet to stdout or a file, up to a
row limit. No Dagster import: a query starts in a fraction of a second.

Batches are written as they arrive, so a result larger than memory streams to its file. The
table keeps only the rows it shows and counts the rest, to say how many it left out. CSV and
JSON lines take their text from DuckDB (an in-memory connection that only converts batches):
nested values (lists, structs, maps) become JSON, dates and timestamps ISO text.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from codeintel_assets.launch import DB_ENV, env, target_root
from codeintel_assets.storage.fleet import fleet_home
from codeintel_assets.storage.fleet_catalog import catalog_stream
from codeintel_assets.storage.gateway import (
    StorageGateway,
    default_read_timeout_s,
)
from codeintel_assets.storage.location import default_db_path

FORMATS = ("table", "csv", "jsonl", "parquet")
TABLE_ROWS = 20  # rows the table shows unless a limit is given


@dataclass(frozen=True)
class Output:
    """Where and how a result goes: `format` (one of FORMATS), `path` (None: stdout; Parquet
    needs a file) and `limit` (rows at most; None: all rows, TABLE_ROWS for the table)."""

    format: str = "table"
    path: str | None = None
    limit: int | None = None

    def problem(self) -> str | None:
        """Why this output cannot be written, or None."""
        if self.format not in FORMATS:
            return f"unknown format {self.format!r} (one of {', '.join(FORMATS)})"
        if self.format == "parquet" and self.path is None:
            return "--format parquet writes a file: give --output FILE"
        if self.format == "table" and self.path is not None:
            return "--output needs --format csv, jsonl or parquet"
        if self.limit is not None and self.limit < 0:
            return f"--limit must be 0 or more, not {self.limit}"
        return None


@dataclass(frozen=True)
class Written:
    """Rows written (or shown), and the result's row count (None when not read to its end)."""

    rows: int
    total: int | None


def db_file(target: str | None = None, db: str | None = None) -> Path:
    """The single shape's DuckDB file, as the Warehouse resource resolves it: `db`, else
    $CODEINTEL_DB, else <target>/.codeintel/codeintel.duckdb (target: see launch.target_root)."""
    return Path(db or env(DB_ENV) or default_db_path(target_root(target)))


def query(sql: str, target: str | None = None, db: str | None = None,
          timeout_s: float | None = None, fleet: str | os.PathLike | None = None) -> pa.Table:
    """Run `sql` read-only on the warehouse and return a pyarrow.Table (see `query_stream`)."""
    with query_stream(sql, target, db, timeout_s, fleet) as reader:
        return reader.read_all()


@contextlib.contextmanager
def query_stream(sql: str, target: str | None = None, db: str | None = None,
                 timeout_s: float | None = None, fleet: str | os.PathLike | None = None
                 ) -> Iterator[pa.RecordBatchReader]:
    """Run `sql` read-only on the warehouse (`db_file(target, db)`); its result as a
    pyarrow.RecordBatchReader, read inside the block. `timeout_s` (default
    $CODEINTEL_READ_TIMEOUT_S, else 60) bounds the wait while a materialization writes
    (reported with the lock's holder on stderr every few seconds; LockTimeoutError names the
    holder) and the query's own run together (QueryTimeoutError). FileNotFoundError without a
    database; duckdb.Error for bad SQL or SQL without a statement.

    With `fleet` (a fleet home), the query runs on the fleet catalog: every table is a view
    over all partitions, with a `partition` column (storage/fleet_catalog.py)."""
    timeout_s = timeout_s or default_read_timeout_s()
    if fleet:
        with catalog_stream(fleet_home(fleet), sql, timeout_s, _LABEL, _report) as reader:
            yield reader
        return
    gateway = StorageGateway(db_file(target, db), read_timeout_s=timeout_s, label=_LABEL,
                             report=_report)
    with gateway.read_stream(sql) as reader:
        yield reader


_LABEL = "codeintel-assets query"  # who reads, in the lock's holder record


def _report(message: str) -> None:
    print(message, file=sys.stderr)


def print_query(sql: str, target: str | None = None, db: str | None = None,
                timeout_s: float | None = None, fleet: str | os.PathLike | None = None,
                output: Output | None = None) -> int:
    """`codeintel-assets query`: write `query_stream`'s result as `output` says (default: a
    table of its first rows on stdout); 0, or 1 with the error on stderr in one line."""
    output = output or Output()
    try:
        with query_stream(sql, target, db, timeout_s, fleet) as reader:
            write(reader, output)
    except BrokenPipeError:  # stdout's reader has all it wants (`| head`), as for any filter
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    # OSError: a file that cannot be written, no warehouse, or a timeout (TimeoutError).
    except (duckdb.Error, OSError) as exc:
        print(f"query: {exc}", file=sys.stderr)
        return 1
    return 0


def write(reader: pa.RecordBatchReader, output: Output) -> Written:
    """Write `reader`'s rows as `output` says. The table goes to stdout, with a line on
    stderr saying how many rows it left out and how to get them. Raises OSError when the
    file cannot be written."""
    if output.format == "table":
        return _table(reader, TABLE_ROWS if output.limit is None else output.limit)
    with _sink(output.path) as sink:
        if output.format == "parquet":
            with pq.ParquetWriter(sink, reader.schema) as parquet:
                return _copy(reader, output.limit, parquet.write_batch)
        if output.format == "csv":
            converter = _Text(reader.schema, json_rows=False)
            with pa_csv.CSVWriter(sink, converter.schema) as csv:
                return _copy(reader, output.limit, lambda b: csv.write_table(converter(b)))
        converter = _Text(reader.schema, json_rows=True)
        return _copy(reader, output.limit, lambda b: sink.write(
            "".join(f"{line}\n" for line in converter(b).column(0).to_pylist()).encode()))


def _batches(reader: pa.RecordBatchReader, limit: int | None) -> Iterator[pa.RecordBatch]:
    left = limit
    for batch in reader:
        if left is not None:
            if left <= 0:
                return
            batch, left = batch.slice(0, left), left - min(left, batch.num_rows)
        if batch.num_rows:
            yield batch


def _copy(reader: pa.RecordBatchReader, limit: int | None, put) -> Written:
    rows = 0
    for batch in _batches(reader, limit):
        put(batch)
        rows += batch.num_rows
    return Written(rows, rows if limit is None or rows < limit else None)


def _table(reader: pa.RecordBatchReader, limit: int) -> Written:
    head: list[pa.RecordBatch] = []
    shown = total = 0
    for batch in reader:
        if shown < limit:
            head.append(batch.slice(0, limit - shown))
            shown += head[-1].num_rows
        total += batch.num_rows
    table = pa.Table.from_batches(head, reader.schema)
    con = duckdb.connect()
    print(con.from_arrow(table).preview(max(shown, 1)))
    if total > shown:
        print(f"{total:,} rows, the first {shown:,} shown: --limit N shows more, --format "
              "csv|jsonl|parquet --output FILE writes them all", file=sys.stderr)
    return Written(shown, total)


@contextlib.contextmanager
def _sink(path: str | None) -> Iterator[BinaryIO]:
    """stdout, or a file written whole or not at all: beside it until the last row is in,
    then renamed over it (an interrupted query leaves no half-written file)."""
    if path is None:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    partial = f"{path}.part"
    try:
        with open(partial, "wb") as f:
            yield f
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


class _Text:
    """A batch with JSON text for nested columns (CSV), or one JSON object per row (JSON
    lines), converted by DuckDB."""

    def __init__(self, schema: pa.Schema, json_rows: bool) -> None:
        self._con = duckdb.connect()
        if json_rows:
            self._sql = "SELECT to_json(batch)::VARCHAR AS json FROM batch"
        else:
            nested = [f.name for f in schema if pa.types.is_nested(f.type)]
            replace = ", ".join(f'to_json("{_quoted(n)}")::VARCHAR AS "{_quoted(n)}"'
                                for n in nested)
            self._sql = f"SELECT * {f'REPLACE ({replace})' if nested else ''} FROM batch"
        self.schema = self(pa.RecordBatch.from_pylist([], schema)).schema

    def __call__(self, batch: pa.RecordBatch) -> pa.Table:
        self._con.register("batch", batch)
        try:
            return self._con.sql(self._sql).to_arrow_table()
        finally:
            self._con.unregister("batch")


def _quoted(name: str) -> str:
    return name.replace('"', '""')
