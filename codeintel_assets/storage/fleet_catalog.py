"""The fleet catalog: one read-only view over every partition's DuckDB file.

A partition's file is written only by that partition's runs (through its gateway), so
repositories never contend for a lock. To query them together, `catalog_query` opens an
in-memory DuckDB database (the catalog), ATTACHes every registered partition's file
READ_ONLY under the alias `p_<n>`, and creates in it, for every table any partition holds,
a view of the same name over all of them:

    CREATE VIEW core.ast_nodes AS
        SELECT 'click-1a2b3c4d' AS partition, * FROM p_0.core.ast_nodes
        UNION ALL BY NAME SELECT 'black-5e6f7a8b' AS partition, * FROM p_1.core.ast_nodes

`partition` tells two clones of one remote apart (their `repo` slug is the same). Partitions
whose file does not exist yet (never materialized) are left out. ATTACH is not stored in a
DuckDB file, so the catalog is rebuilt per connection: it costs one ATTACH per partition.
Each partition's gateway lock is held (read mode, waiting like any reader) while its file is
attached, so a query never sees a half-written table.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from codeintel_assets.storage import user_sql
from codeintel_assets.storage.fleet import Checkout, Registry, partition_db
from codeintel_assets.storage.locking import DatabaseLock, Reporter, default_label


@contextlib.contextmanager
def open_catalog(home: Path, timeout_s: float, label: str = "",
                 report: Reporter | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection with every materialized partition of the fleet at `home`
    attached read-only and a view per table over all of them. Waits up to `timeout_s` per
    partition for a running write (LockTimeoutError names its holder)."""
    files = {key: partition_db(home, key) for key in Registry(home).load()}
    files = {key: path for key, path in files.items() if path.exists()}
    locks: list[DatabaseLock] = []
    con = duckdb.connect(":memory:")
    try:
        aliases = {}
        for n, (key, path) in enumerate(sorted(files.items())):
            lock = DatabaseLock(path)
            lock.acquire(timeout_s, label or default_label(), "read", report)
            locks.append(lock)
            aliases[key] = f"p_{n}"
            con.execute(f"ATTACH $path AS {aliases[key]} (READ_ONLY)", {"path": str(path)})
        _create_views(con, aliases)
        # The user's SQL runs on this connection: no COPY or file reads, and no way to switch
        # that back (ATTACH is refused before, by statement type).
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con
    finally:
        con.close()
        for lock in reversed(locks):
            lock.release()


# What a catalog query may be: reading statements only. DuckDB's settings cannot refuse an
# ATTACH (a partition's file read-write, past its gateway lock), so the statements are checked
# with DuckDB's own parser before anything runs.
_READING = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def catalog_query(home: Path, sql: str, timeout_s: float, label: str = "",
                  report: Reporter | None = None) -> pa.Table:
    """`catalog_stream`'s result as one Arrow table."""
    with catalog_stream(home, sql, timeout_s, label, report) as reader:
        return reader.read_all()


@contextlib.contextmanager
def catalog_stream(home: Path, sql: str, timeout_s: float, label: str = "",
                   report: Reporter | None = None) -> Iterator[pa.RecordBatchReader]:
    """Run `sql` on the fleet catalog; its result as record batches, read inside the block.
    `timeout_s` bounds the wait for running writes and the query together. Raises
    duckdb.PermissionException for a statement that is not a query (SELECT, FROM, WITH,
    DESCRIBE, SUMMARIZE, SHOW, EXPLAIN), FileNotFoundError when no partition has been
    materialized, LockTimeoutError, QueryTimeoutError, duckdb.Error for bad SQL."""
    refused = sorted({s.type.name for s in duckdb.extract_statements(sql)} -
                     {t.name for t in _READING})
    if refused:
        raise duckdb.PermissionException(
            f"the fleet catalog is read-only: {', '.join(refused)} statements are refused")
    started = time.monotonic()
    with open_catalog(home, timeout_s, label, report) as con:
        if not con.execute("SELECT database_name FROM duckdb_databases() "
                           "WHERE database_name LIKE 'p\\_%' ESCAPE '\\'").fetchall():
            raise FileNotFoundError(f"no partition of the fleet at {home} has been "
                                    "materialized yet")
        # Read-only: only queries reach here, every attached file is READ_ONLY, external access
        # is off (no COPY or file reads), and the views live in this in-memory database.
        with user_sql.stream(con, sql, timeout_s - (time.monotonic() - started),
                             timeout_s) as reader:
            yield reader


@dataclass(frozen=True)
class Partition:
    """A partition of the fleet: its key, its checkout (registry.json) and the 40-hex commit
    its warehouse last ingested (core.repo_map; '' before its first ingestion)."""

    key: str
    checkout: Checkout
    commit: str


def partitions(home: Path, timeout_s: float, label: str = "",
               report: Reporter | None = None) -> list[Partition]:
    """Every registered partition of the fleet at `home`, by key. Waits up to `timeout_s` per
    partition for a running write, like a query (LockTimeoutError)."""
    checkouts = Registry(home).load()
    with open_catalog(home, timeout_s, label, report) as con:
        has_map = con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'core' "
                              "AND view_name = 'repo_map'").fetchone()[0]
        commits = dict(con.execute('SELECT partition, max("commit") FROM core.repo_map '
                                   "GROUP BY 1").fetchall()) if has_map else {}
    return [Partition(key, checkout, commits.get(key) or "") for key, checkout in
            checkouts.items()]


def _create_views(con: duckdb.DuckDBPyConnection, aliases: dict[str, str]) -> None:
    tables: dict[tuple[str, str], list[str]] = {}
    for key, alias in aliases.items():
        for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $db "
                "UNION SELECT schema_name, view_name FROM duckdb_views() "
                "WHERE database_name = $db AND NOT internal", {"db": alias}).fetchall():
            tables.setdefault((schema, name), []).append(key)
    for (schema, name), keys in sorted(tables.items()):
        if schema.startswith("_"):  # the gateway's ledgers: per partition, not shared data
            continue
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
        parts = [f"SELECT {_literal(k)} AS partition, * FROM "
                 f"{aliases[k]}.{_ident(schema)}.{_ident(name)}" for k in keys]
        con.execute(f"CREATE VIEW {_ident(schema)}.{_ident(name)} AS "
                    + " UNION ALL BY NAME ".join(parts))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    # A view's definition is stored SQL and cannot hold a bound parameter: quote the key.
    return "'" + value.replace("'", "''") + "'"
