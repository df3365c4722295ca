"""A user's SQL (`codeintel-assets query`, `run.query`) on an open DuckDB connection: refused
when it is not a query, streamed as Arrow record batches, and bounded in time.

DuckDB stops a running statement when another thread calls its connection's `interrupt()`,
so the bound is a timer thread that does that; the statement then fails (DuckDB's
InterruptException while it runs, an OSError from Arrow while the result streams) and the
failure is reported as QueryTimeoutError instead. The gateway (one file) and the fleet
catalog (every partition) both run a user's SQL through `stream`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import duckdb
import pyarrow as pa

BATCH_ROWS = 65_536


class QueryTimeoutError(TimeoutError):
    """A query ran past its time bound and was interrupted."""


@contextlib.contextmanager
def stream(con: duckdb.DuckDBPyConnection, sql: str, seconds: float, bound_s: float,
           params: dict | None = None) -> Iterator[pa.RecordBatchReader]:
    """`sql`'s result on `con` as a reader of record batches (about BATCH_ROWS rows each),
    valid inside the block. The statement is interrupted once `seconds` have passed, while it
    runs or while the block reads it: QueryTimeoutError("query exceeded `bound_s` s") then
    (`bound_s` is the whole bound, of which `seconds` remain). Raises
    duckdb.InvalidInputException for SQL without a statement (empty, blank, only comments),
    duckdb.Error for bad SQL."""
    with _interrupt_after(con, seconds, bound_s):
        relation = con.sql(sql, params=params or {})
        if relation is None:  # DuckDB's answer to SQL without a statement
            raise duckdb.InvalidInputException("no SQL statement given: pass a query, e.g. "
                                               "'SELECT count(*) FROM core.modules'")
        reader = relation.to_arrow_reader(BATCH_ROWS)
        try:
            yield reader
        finally:
            reader.close()  # an unread rest is dropped: DuckDB stops producing it


@contextlib.contextmanager
def _interrupt_after(con: duckdb.DuckDBPyConnection, seconds: float,
                     bound_s: float) -> Iterator[None]:
    # The lock makes "the block ended" and "the timer fired" exclusive: an interrupt that
    # comes after the block would hit whatever the connection runs next.
    lock, state = threading.Lock(), {"done": False, "fired": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                con.interrupt()

    if seconds <= 0:
        raise QueryTimeoutError(f"query exceeded {bound_s:g} s (the wait for the lock took "
                                "it all)")
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as exc:
        if state["fired"]:
            raise QueryTimeoutError(f"query exceeded {bound_s:g} s and was "
                                    "interrupted") from exc
        raise
    finally:
        with lock:
            state["done"] = True
        timer.cancel()
