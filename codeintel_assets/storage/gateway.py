"""StorageGateway: the one place that opens, reads and writes the DuckDB file.

DuckDB admits one read-write process per database file, and Dagster may run steps in several
processes, so every connection here is short-lived and taken under a cross-process file lock
(`<db>.lock`); nothing holds a connection while parsing or tools run. All connections use one
config, which DuckDB requires for connections to the same file inside one process.

Writes replace one repository's rows of one table in a single transaction: readers see the old
rows or the new ones, never an empty or partial table. Data arrives as Arrow (registered
zero-copy) or as a SQL SELECT the database runs itself (`INSERT ... SELECT`), so big derived tables
never pass through Python. Columns are validated against the catalog before anything is touched;
when the catalog changes a table's columns the table is recreated (migrated) in the same
transaction. Primary keys are declared in the catalog and verified by asset checks, not enforced
by DuckDB indexes, because DuckDB rejects deleting and re-inserting one key inside a transaction.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from filelock import FileLock

from codeintel_assets.storage.catalog import TableSpec

# One config for every connection: DuckDB refuses a second connection to the same file in one
# process when its config differs.
_DUCKDB_CONFIG = {"threads": "2"}


class SchemaMismatchError(ValueError):
    """A batch's columns differ from the catalog's, or its rows are of another repository;
    raised before anything is committed."""


class StaleTableError(RuntimeError):
    """A stored table lacks columns the catalog (and the reader) expects."""


@dataclass(frozen=True)
class Sql:
    """A SELECT the gateway runs inside the database as `INSERT INTO t BY NAME <query>`."""

    query: str
    params: tuple = ()


@dataclass(frozen=True)
class WriteResult:
    table: str
    row_count: int
    migrated: bool


@dataclass
class StorageGateway:
    """Reads and writes warehouse tables in the DuckDB file at `db_path`.

    Raises `SchemaMismatchError` for batches that do not match the catalog and
    `filelock.Timeout` when the lock is not free within `lock_timeout_s` seconds.
    """

    db_path: Path
    lock_timeout_s: float = 600.0
    _lock: FileLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.db_path) + ".lock", timeout=self.lock_timeout_s)

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection under the cross-process lock (also used for reads).

        A process outside the gateway (a user's read-only DuckDB shell, say) can still hold
        DuckDB's own file lock: opening then retries with backoff until `lock_timeout_s`.
        """
        with self._lock:
            con = _open(self.db_path, self.lock_timeout_s)
            try:
                yield con
            finally:
                con.close()

    # ---- reads -------------------------------------------------------------------------

    def query(self, sql: str, params: tuple | list = ()) -> pa.Table:
        """Run a read query and return its result as an Arrow table."""
        with self.connect() as con:
            return con.sql(sql, params=list(params)).to_arrow_table()

    def table_exists(self, spec: TableSpec) -> bool:
        with self.connect() as con:
            return bool(_existing_types(con, spec))

    def read_table(
        self, spec: TableSpec, repo: str | None = None, columns: list[str] | None = None,
        where: str = "", params: tuple = (),
    ) -> pa.Table:
        """Rows of `spec` (one repo's when `repo` is given) as Arrow; an empty table if absent.

        Raises StaleTableError when the stored table lacks a requested column (it was written
        by an older catalog and must be materialized again).
        """
        wanted = columns or spec.column_names
        cols = ", ".join(f'"{c}"' for c in wanted)
        clauses = [c for c in ("repo = ?" if repo is not None else "", where) if c]
        sql = f"SELECT {cols} FROM {spec.qualified_name}"
        if clauses:
            sql += " WHERE " + " AND ".join(f"({c})" for c in clauses)
        args = ((repo,) if repo is not None else ()) + tuple(params)
        with self.connect() as con:
            existing = dict(_existing_types(con, spec))
            if not existing:
                return spec.empty().select(wanted)
            missing = [c for c in wanted if c not in existing]
            if missing:
                raise StaleTableError(
                    f"{spec.qualified_name} lacks columns {missing}: it was written by an older "
                    "catalog; materialize it again")
            return conform(spec.select(wanted), con.sql(sql, params=list(args)).to_arrow_table())

    # ---- writes ------------------------------------------------------------------------

    def replace_repo_rows(self, spec: TableSpec, repo: str, data: pa.Table | Sql) -> WriteResult:
        """Replace every row of `repo` in `spec` with `data`, in one transaction.

        `data` is an Arrow table whose column names equal the catalog's (order and types are
        conformed by name), or a `Sql` SELECT producing those columns. Rows of other
        repositories are kept. An empty `data` leaves an empty (but existing) table.
        """
        if isinstance(data, pa.Table):
            data = conform(spec, data)
            foreign = pc.sum(pc.invert(pc.equal(data["repo"], repo)).fill_null(True)).as_py()
            if foreign:
                raise SchemaMismatchError(
                    f"{spec.qualified_name}: {foreign} rows of the batch are not of repo {repo!r}")
        table = spec.qualified_name
        with self.connect() as con:
            if isinstance(data, Sql):
                _check_columns(spec, _describe(con, data))
            con.execute("BEGIN TRANSACTION")
            try:
                migrated = _ensure_table(con, spec)
                others = f"SELECT count(*) FROM {table} WHERE repo IS DISTINCT FROM ?"
                before = con.execute(others, [repo]).fetchone()[0]
                con.execute(f"DELETE FROM {table} WHERE repo = ?", [repo])
                if isinstance(data, Sql):
                    con.execute(f"INSERT INTO {table} BY NAME {data.query}", list(data.params))
                else:
                    con.register("_batch", data)
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _batch")
                    con.unregister("_batch")
                if con.execute(others, [repo]).fetchone()[0] != before:
                    raise SchemaMismatchError(f"{table}: the SELECT produced rows of other "
                                              f"repositories than {repo!r}")
                count = con.execute(f"SELECT count(*) FROM {table} WHERE repo = ?",
                                    [repo]).fetchone()[0]
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return WriteResult(spec.qualified_name, int(count), migrated)


def conform(spec: TableSpec, data: pa.Table) -> pa.Table:
    """Reorder and cast `data` to the catalog schema; refuse other column sets by name."""
    _check_columns(spec, data.column_names)
    data = data.select(spec.column_names)
    try:
        return data.cast(spec.arrow_schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaMismatchError(f"{spec.qualified_name}: column types do not match: {exc}") from exc


def _check_columns(spec: TableSpec, columns: list[str]) -> None:
    expected, got = spec.column_names, list(columns)
    if sorted(expected) != sorted(got):
        missing = [c for c in expected if c not in got]
        extra = [c for c in got if c not in expected]
        raise SchemaMismatchError(
            f"{spec.qualified_name}: batch columns do not match the catalog; "
            f"missing {missing}, unexpected {extra}"
        )


def _describe(con: duckdb.DuckDBPyConnection, sql: Sql) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {sql.query}", list(sql.params)).fetchall()]


def _existing_types(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> list[tuple[str, str]]:
    """[(column, DuckDB type)] of the stored table, [] when it does not exist."""
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [spec.schema, spec.name],
    ).fetchall()


def _ensure_table(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> bool:
    """Create the table, or migrate it when its columns differ from the catalog.

    Migration recreates the table and copies every repository's rows over, keeping the
    columns both versions have (cast with TRY_CAST; new columns are NULL until that
    repository is materialized again). Returns True when an existing table was migrated.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
    existing = _existing_types(con, spec)
    wanted = [(c.name, c.duckdb_type) for c in spec.columns]
    if existing == wanted:
        return False
    if not existing:
        con.execute(spec.ddl())
        return False
    old = f"{spec.schema}._migrating_{spec.name}"
    con.execute(f"ALTER TABLE {spec.qualified_name} RENAME TO _migrating_{spec.name}")
    con.execute(spec.ddl())
    kept = [c for c in spec.columns if c.name in dict(existing)]
    if kept:
        names = ", ".join(f'"{c.name}"' for c in kept)
        casts = ", ".join(f'TRY_CAST("{c.name}" AS {c.duckdb_type}) AS "{c.name}"' for c in kept)
        con.execute(f"INSERT INTO {spec.qualified_name} ({names}) SELECT {casts} FROM {old}")
    con.execute(f"DROP TABLE {old}")
    return True


def _open(path: Path, timeout_s: float) -> duckdb.DuckDBPyConnection:
    deadline, delay = time.monotonic() + timeout_s, 0.05
    while True:
        try:
            return duckdb.connect(str(path), config=_DUCKDB_CONFIG)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def default_db_path(target_root: str | os.PathLike) -> Path:
    return Path(target_root) / ".codeintel" / "codeintel.duckdb"
