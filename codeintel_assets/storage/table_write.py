"""The body of one warehouse write, run inside the gateway's transaction on its connection
(StorageGateway._write, StorageGateway.apply_deltas): replace one repository's rows of one table
by Arrow rows, a SELECT or a FileDelta, keep its ledger and its content token. Free of locking
and transactions, which stay with the gateway."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from codeintel_assets.storage.catalog import TableSpec
from codeintel_assets.storage.catalog import table as catalog_table
from codeintel_assets.storage.gateway_types import FileDelta, Sql
from codeintel_assets.storage.ledger import check_plan, record_ledger
from codeintel_assets.storage.tables import (
    SchemaMismatchError,
    ensure_table,
    run_statement,
)
from codeintel_assets.storage.tokens import record_write


def write_rows(con: duckdb.DuckDBPyConnection, spec: TableSpec, repo: str, data: pa.Table | Sql,
               delta: FileDelta | None, built_from: str | None) -> tuple[int, bool]:
    """Write `data` (conformed Arrow rows of `repo`, or a SELECT) as `repo`'s rows of `spec`,
    or apply `delta` (its rows are `data`), inside the caller's transaction: (the repository's
    row count afterwards, whether the table was migrated). Raises StalePlanError when the
    delta's (or a table it was derived from) ledger changed since it was planned, and
    SchemaMismatchError for an incremental delta after a catalog change or a SELECT that
    brings other repositories' rows."""
    table = spec.qualified_name
    if delta is not None and delta.planned_against is not None:
        check_plan(con, spec, repo, delta.planned_against)
    for source, digest in (delta.derived_from if delta is not None else {}).items():
        check_plan(con, catalog_table(source), repo, digest)
    migrated = ensure_table(con, spec)
    if migrated and delta is not None and not delta.full:
        raise SchemaMismatchError(f"{table}: an incremental update cannot follow a "
                                  "catalog change; rebuild it in full")
    key = {"repo": repo}
    # Only a SELECT can bring other repositories' rows (an Arrow batch was checked
    # above): count them around its insert, not around every write.
    others = f"SELECT count(*) FROM {table} WHERE repo IS DISTINCT FROM $repo"
    before = con.execute(others, key).fetchall()[0][0] \
        if isinstance(data, Sql) else 0
    if delta is None or delta.full:
        run_statement(con, f"DELETE FROM {table} WHERE repo = $repo", key)
    elif delta.to_delete:
        con.register("_paths", pa.table({"p": pa.array(delta.to_delete, pa.string())}))
        run_statement(con, f'DELETE FROM {table} WHERE repo = $repo AND '
                      f'"{spec.path_column}" IN (SELECT p FROM _paths)', key)
        con.unregister("_paths")
    if isinstance(data, Sql):
        run_statement(con, f"INSERT INTO {table} BY NAME {data.query}",
                      dict(data.params))
    elif data.num_rows:
        con.register("_batch", data)
        run_statement(con, f"INSERT INTO {table} BY NAME SELECT * FROM _batch")
        con.unregister("_batch")
    if isinstance(data, Sql) and con.execute(others, key).fetchall()[0][0] != before:
        raise SchemaMismatchError(f"{table}: the SELECT produced rows of other "
                                  f"repositories than {repo!r}")
    if delta is not None:
        # Unchanged files' rows describe the new snapshot too.
        run_statement(con, f'UPDATE {table} SET "commit" = $commit WHERE repo = $repo '
                      'AND "commit" IS DISTINCT FROM $commit',
                      {**key, "commit": delta.commit})
        record_ledger(con, spec, repo, delta.ledger, delta.version, delta.commit,
                      stored=delta.planned_against)
    else:
        record_ledger(con, spec, repo, None)
    # A delta that changed no file changed only `commit`: its token stays.
    record_write(con, spec, repo, delta is not None and not (
        delta.full or delta.to_delete or delta.rows.num_rows),
        delta.commit if delta is not None else None, built_from)
    count = con.execute(f"SELECT count(*) FROM {table} WHERE repo = $repo",
                        key).fetchall()[0][0]
    return int(count), migrated
