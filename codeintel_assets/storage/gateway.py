"""StorageGateway: the one place that opens, reads and writes the DuckDB file.

DuckDB admits one read-write process per database file, and Dagster may run steps in several
processes, so every connection here is short-lived and taken under a cross-process file lock
(`<db>.lock`); nothing holds a connection while parsing or tools run. All connections use one
config, which DuckDB requires for connections to the same file inside one process.

Writes replace one repository's rows of one table in a single transaction: readers see the old
rows or the new ones, never an empty or partial table. File-level tables can instead be updated
by a `FileDelta`: the rows of changed files are deleted and re-inserted, every row takes the new
commit, and the table's ledger (which file fingerprints and which extractor version its rows come
from, in the gateway's own `_codeintel` schema, see `ledger`) is replaced, all in the same
transaction; a delta planned against another ledger state than the stored one is refused
(StalePlanError) before anything changes. Every write also records the table's content token
in the same transaction, and a derived table the tokens of its inputs (`tokens`: how a step
whose inputs did not change keeps its rows, `skip_unchanged`). Statements bind named
parameters ($name). Data arrives as Arrow (registered zero-copy) or as a SQL SELECT the
database runs itself (`INSERT ... SELECT`), so big derived tables never pass through Python
(see `tables`). Columns are validated against the catalog before anything is touched; when the
catalog changes a table's columns the table is recreated (migrated) in the same transaction.
Primary keys are declared in the catalog and verified by asset checks, not enforced by DuckDB
indexes, because DuckDB rejects deleting and re-inserting one key inside a transaction.

Waiting and failing (see `locking`): readers and writers wait, bounded, for the lock and report
its holder; a write that fails in the database (disk full, file size limit, permissions)
raises WriteError naming the file and DuckDB's cause, never the error of the cleanup after it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.storage import user_sql
from codeintel_assets.storage.catalog import TableSpec
from codeintel_assets.storage.catalog import table as catalog_table
from codeintel_assets.storage.gateway_types import (
    Derived,
    FileDelta,
    MissingTableError,
    Params,
    SkipCheck,
    Sql,
    StaleTableError,
    Unchanged,
    WriteError,
    WriteResult,
)
from codeintel_assets.storage.ledger import (
    Ledger,
    StalePlanError,
    ledger_digest,
    read_ledgers,
)
from codeintel_assets.storage.location import warehouse_folder
from codeintel_assets.storage.locking import (
    DatabaseLock,
    LockTimeoutError,
    Reporter,
    default_label,
    open_duckdb,
)
from codeintel_assets.storage.table_write import write_rows
from codeintel_assets.storage.tables import (
    SchemaMismatchError,
    check_columns,
    conform,
    describe_columns,
    existing_types,
)
from codeintel_assets.storage.tokens import (
    ensure_views,
    refresh_commit,
    skip_plan,
)
from codeintel_assets.storage.view_spec import ViewSpec

# One config for every connection: DuckDB refuses a second connection to the same file in one
# process when its config differs.
_DUCKDB_CONFIG = {"threads": "2"}
PREVIEW_ROWS = 5
READ_TIMEOUT_ENV = "CODEINTEL_READ_TIMEOUT_S"
DEFAULT_READ_TIMEOUT_S = 60.0
_log = logging.getLogger(__name__)

# Raised or taken through the gateway, defined beside their code.
__all__ = ["Derived", "FileDelta", "LockTimeoutError", "MissingTableError", "SchemaMismatchError",
           "SkipCheck", "Sql", "StalePlanError", "StaleTableError", "StorageGateway",
           "Unchanged", "WriteError", "WriteResult", "conform", "ledger_digest"]


def default_read_timeout_s() -> float:
    """Seconds a read waits for the warehouse: $CODEINTEL_READ_TIMEOUT_S, else 60."""
    return float(os.environ.get(READ_TIMEOUT_ENV) or DEFAULT_READ_TIMEOUT_S)


@dataclass
class StorageGateway:
    """Reads and writes warehouse tables in the DuckDB file at `db_path`.

    Writes wait up to `lock_timeout_s` seconds for the lock, reads up to `read_timeout_s`
    (default `default_read_timeout_s()`); both report the holder to `report` (default: this
    module's logger) every few seconds and raise LockTimeoutError naming it. `label` says
    who this gateway's user is in the lock's holder record (default: the program's command
    line). Raises `SchemaMismatchError` for batches that do not match the catalog and
    WriteError when the database refuses a write.
    """

    db_path: Path
    lock_timeout_s: float = 600.0
    read_timeout_s: float = field(default_factory=default_read_timeout_s)
    label: str = field(default_factory=default_label)
    report: Reporter | None = field(default=None, repr=False, compare=False)
    _lock: DatabaseLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        self._lock = DatabaseLock(self.db_path)

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection under the cross-process lock.

        `read_only` opens DuckDB read-only and waits `read_timeout_s` rather than
        `lock_timeout_s`. A process outside the gateway (a user's DuckDB shell, say) can still
        hold DuckDB's own file lock: opening then retries with backoff within the same bound.
        An error raised inside the block is never replaced by an error of closing.
        """
        timeout = self.read_timeout_s if read_only else self.lock_timeout_s
        report = self.report or _log.warning
        # Made at the first connection, not with the gateway: a reader of a warehouse that
        # does not exist must leave no folder behind.
        warehouse_folder(self.db_path)
        self._lock.acquire(timeout, self.label, "read" if read_only else "write", report)
        try:
            con = open_duckdb(self.db_path, _DUCKDB_CONFIG, timeout, read_only, report)
            try:
                yield con
            except BaseException as exc:
                _cleanup(con.close, exc, "closing the connection")
                raise
            try:
                con.close()
            except duckdb.Error as exc:  # closing checkpoints: it writes
                raise WriteError(f"{self.db_path}: closing the database failed: {exc}") from exc
        finally:
            self._lock.release()

    # ---- reads -------------------------------------------------------------------------

    def query(self, sql: str, params: Params | None = None,
              tables: Mapping[str, pa.Table] | None = None) -> pa.Table:
        """Run a read query with named parameters and return its result as an Arrow table.
        The query also sees the Arrow `tables` (registered zero-copy under their names), so
        rows not yet written can be joined with stored ones inside DuckDB."""
        with self.connect() as con:
            for name, data in (tables or {}).items():
                con.register(name, data)
            return con.sql(sql, params=dict(params or {})).to_arrow_table()

    def read_query(self, sql: str, params: Params | None = None) -> pa.Table:
        """`read_stream`'s result as one Arrow table."""
        with self.read_stream(sql, params) as reader:
            return reader.read_all()

    @contextlib.contextmanager
    def read_stream(self, sql: str, params: Params | None = None
                    ) -> Iterator[pa.RecordBatchReader]:
        """Run a user's `sql` on a read-only connection (so it cannot change anything); its
        result as record batches, read inside the block. `read_timeout_s` bounds the wait for
        a running write and the query together. Raises LockTimeoutError, QueryTimeoutError,
        FileNotFoundError when the database does not exist, duckdb.Error for bad SQL or a
        statement that is not a query (see `user_sql.stream`)."""
        if not self.db_path.exists():
            raise FileNotFoundError(f"no warehouse at {self.db_path}: materialize first")
        started = time.monotonic()
        with self.connect(read_only=True) as con, user_sql.stream(
                con, sql, self.read_timeout_s - (time.monotonic() - started),
                self.read_timeout_s, dict(params or {})) as reader:
            yield reader

    def table_exists(self, spec: TableSpec) -> bool:
        with self.connect() as con:
            return bool(existing_types(con, spec))

    def read_table(
        self, spec: TableSpec, repo: str | None = None, columns: list[str] | None = None,
        where: str = "", params: Params | None = None, required: bool = False,
    ) -> pa.Table:
        """Rows of `spec` (one repo's when `repo` is given) as Arrow; an empty table if absent,
        or MissingTableError when `required`. `where` is a condition with named parameters
        (`params`), written by the named queries of `storage.queries`, not by asset code.

        Raises StaleTableError when the stored table lacks a requested column (it was written
        by an older catalog and must be materialized again).
        """
        wanted = columns or spec.column_names
        cols = ", ".join(f'"{c}"' for c in wanted)
        clauses = [c for c in ("repo = $repo" if repo is not None else "", where) if c]
        sql = f"SELECT {cols} FROM {spec.qualified_name}"
        if clauses:
            sql += " WHERE " + " AND ".join(f"({c})" for c in clauses)
        args = {**({"repo": repo} if repo is not None else {}), **(params or {})}
        with self.connect() as con:
            existing = dict(existing_types(con, spec))
            if not existing and required:
                raise MissingTableError(f"{spec.qualified_name} does not exist in {self.db_path}")
            if not existing:
                return spec.empty().select(wanted)
            missing = [c for c in wanted if c not in existing]
            if missing:
                raise StaleTableError(
                    f"{spec.qualified_name} lacks columns {missing}: it was written by an older "
                    "catalog; materialize it again")
            return conform(spec.select(wanted), con.sql(sql, params=args).to_arrow_table())

    # ---- writes ------------------------------------------------------------------------

    def replace_repo_rows(self, spec: TableSpec, repo: str, data: pa.Table | Sql | Derived
                          ) -> WriteResult:
        """Replace every row of `repo` in `spec` with `data`, in one transaction; a `Derived`
        also records the input digest its rows were built from (see `skip_unchanged`).

        `data` is an Arrow table whose column names equal the catalog's (order and types are
        conformed by name), or a `Sql` SELECT producing those columns. Rows of other
        repositories are kept. An empty `data` leaves an empty (but existing) table. The table's
        ledger for `repo` is dropped: rows written whole carry no file fingerprints.
        """
        if isinstance(data, Derived):
            return self._write(spec, repo, data.data, delta=None, built_from=data.built_from)
        return self._write(spec, repo, data, delta=None)

    def skip_unchanged(self, outputs: list[TableSpec], inputs: list[str], repo: str,
                       salt: str, keep: bool = True) -> SkipCheck:
        """Whether the derived tables `outputs` of one step can be kept as they are: their
        inputs (qualified names) have the tokens they were built from, with `salt` (the
        step's code and configuration). If so, each output's rows take the inputs' commit
        (what a rebuild would write) in one transaction, and SkipCheck.unchanged names them;
        otherwise nothing changes and SkipCheck.input_digest is what the rebuild records
        (`Derived`); `keep` False (a full rebuild) only computes the digest. One connection.
        See `storage.tokens`."""
        names = [s.qualified_name for s in outputs]
        with self.connect() as con:
            digest, commit = skip_plan(con, names, inputs, repo, salt)
            if commit is None or not keep:
                return SkipCheck(digest)
            con.execute("BEGIN TRANSACTION")
            try:
                counts = {s.qualified_name: refresh_commit(con, s, repo, commit)
                          for s in outputs}
                con.execute("COMMIT")
            except BaseException as exc:
                _cleanup(lambda: con.execute("ROLLBACK"), exc, "rolling back")
                if isinstance(exc, duckdb.Error):
                    raise self._write_error(", ".join(names), exc) from exc
                raise
        return SkipCheck(digest, {n: Unchanged(digest, commit, int(counts[n])) for n in names})

    def apply_delta(self, spec: TableSpec, repo: str, delta: FileDelta,
                    built_from: str | None = None) -> WriteResult:
        """Apply `delta` to `repo`'s rows of the file-level table `spec` in one transaction:
        delete the rows of `delta.to_delete` (all rows when `delta.full`), insert `delta.rows`,
        set `commit` on every row of the repository, and replace the table's ledger;
        `built_from`: the input digest of a derived table written per file (`Derived`). Raises
        StalePlanError, writing nothing, when `delta.planned_against` is set and the stored
        ledger is no longer the one the delta was planned against."""
        if spec.path_column is None:
            raise SchemaMismatchError(f"{spec.qualified_name} is not a file-level table")
        return self._write(spec, repo, delta.rows, delta=delta, built_from=built_from)

    def apply_deltas(self, repo: str, deltas: Mapping[str, FileDelta]) -> dict[str, int]:
        """`apply_delta` of several file-level tables (qualified name -> FileDelta) over one
        connection and in one transaction (a step whose files did not change keeps a dozen
        tables: one open, not one each): qualified name -> the repository's row count after.
        Raises as apply_delta; nothing is written when one fails."""
        names = ", ".join(deltas)
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                counts = {name: write_rows(con, catalog_table(name), repo,
                                           conform(catalog_table(name), d.rows), d, None)[0]
                          for name, d in deltas.items()}
                con.execute("COMMIT")
            except BaseException as exc:
                _cleanup(lambda: con.execute("ROLLBACK"), exc, "rolling back")
                if isinstance(exc, _STORAGE_ERRORS):
                    raise self._write_error(names, exc) from exc
                raise
        return counts

    def ledger(self, spec: TableSpec, repo: str) -> tuple[str, dict[str, str]] | None:
        """(version, rel_path -> fingerprint) the stored rows of `repo` were built from, or None
        when the table or its ledger does not exist (so the next write must be full)."""
        return self.ledgers([spec], repo)[spec.qualified_name]

    def ledgers(self, specs: list[TableSpec], repo: str) -> dict[str, Ledger]:
        """`ledger` of several tables, read over one connection."""
        with self.connect() as con:
            return read_ledgers(con, specs, repo)

    def _write(self, spec: TableSpec, repo: str, data: pa.Table | Sql,
               delta: FileDelta | None, built_from: str | None = None) -> WriteResult:
        if isinstance(data, pa.Table):
            data = conform(spec, data)
            foreign = pc.sum(pc.invert(pc.equal(data["repo"], repo)).fill_null(True)).as_py()
            if foreign:
                raise SchemaMismatchError(
                    f"{spec.qualified_name}: {foreign} rows of the batch are not of repo {repo!r}")
        table = spec.qualified_name
        with self.connect() as con:
            if isinstance(data, Sql):
                check_columns(spec, describe_columns(con, data.query, dict(data.params)))
            con.execute("BEGIN TRANSACTION")
            try:
                count, migrated = write_rows(con, spec, repo, data, delta, built_from)
            except BaseException as exc:
                _cleanup(lambda: con.execute("ROLLBACK"), exc, "rolling back")
                if isinstance(exc, _STORAGE_ERRORS):
                    raise self._write_error(table, exc) from exc
                raise
            try:
                con.execute("COMMIT")
            except duckdb.Error as exc:
                # A failed COMMIT has ended the transaction already (DuckDB rolls back), so a
                # ROLLBACK would only fail with "no transaction is active" over the cause.
                _cleanup(lambda: con.execute("ROLLBACK"), exc, "rolling back")
                raise self._write_error(table, exc) from exc
            preview = con.sql(f"SELECT * FROM {table} WHERE repo = $repo LIMIT {PREVIEW_ROWS}",
                              params={"repo": repo}).to_arrow_table().to_pylist()
        return WriteResult(spec.qualified_name, int(count), migrated, preview)

    def replace_view(self, spec: ViewSpec) -> list[tuple[str, str]]:
        """CREATE OR REPLACE the view `spec` (storage/views.py) under the lock; its (column,
        type) pairs. Raises duckdb.CatalogException when a table it reads does not exist,
        ViewMismatchError when its columns are not the declared ones (nothing changes)."""
        with self.connect() as con:
            return ensure_views(con, [spec], "", force=True)[spec.qualified_name]

    def replace_views(self, specs: list[ViewSpec], salt: str) -> dict[str, list | None]:
        """`replace_view` of those of `specs` whose definition or `salt` changed since they
        were created, over one connection; None for those kept (`tokens.ensure_views`)."""
        with self.connect() as con:
            return ensure_views(con, specs, salt)

    def _write_error(self, table: str, exc: BaseException) -> WriteError:
        return WriteError(f"{self.db_path}: writing {table} failed and was rolled back (the "
                          f"table keeps its previous rows): {exc}")


# What the storage (not the data) refuses inside a transaction: no space, a file size limit,
# permissions, memory.
_STORAGE_ERRORS = (duckdb.IOException, duckdb.PermissionException,
                   duckdb.OutOfMemoryException)


def _cleanup(action, exc: BaseException, what: str) -> None:
    """Run a cleanup `action` after `exc`; a failure of the cleanup becomes a note on `exc`
    instead of replacing it."""
    try:
        action()
    except Exception as cleanup_exc:  # noqa: BLE001 - anything, as long as exc survives
        exc.add_note(f"({what} afterwards also failed: {cleanup_exc})")
