"""The output of `codeintel-assets query`: a result's record batches drawn as a table, or
written as CSV, JSON lines or Parquet to stdout or a file, up to a row limit.

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
from typing import BinaryIO

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

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
