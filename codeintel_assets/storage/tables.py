"""Warehouse tables in DuckDB: creating and migrating them from the catalog, and checking
batches against it. Used by the StorageGateway inside its transactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa

from codeintel_assets.storage.catalog import TableSpec


class SchemaMismatchError(ValueError):
    """A batch's columns differ from the catalog's, or its rows are of another repository;
    raised before anything is committed."""


def run_statement(con: duckdb.DuckDBPyConnection, sql: str,
                  params: Mapping[str, object] | None = None) -> None:
    """Execute a data-changing statement with named parameters ($name) and consume its
    row-count result: DuckDB 2.0 refuses further work (register, the next statement) on a
    connection with an unfetched result."""
    con.execute(sql, dict(params or {})).fetchall()


def conform(spec: TableSpec, data: pa.Table) -> pa.Table:
    """Reorder and cast `data` to the catalog schema; refuse other column sets by name."""
    check_columns(spec, data.column_names)
    data = data.select(spec.column_names)
    try:
        return data.cast(spec.arrow_schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaMismatchError(f"{spec.qualified_name}: column types do not match: {exc}") from exc


def check_columns(spec: TableSpec, columns: list[str]) -> None:
    expected, got = spec.column_names, list(columns)
    if sorted(expected) != sorted(got):
        missing = [c for c in expected if c not in got]
        extra = [c for c in got if c not in expected]
        raise SchemaMismatchError(
            f"{spec.qualified_name}: batch columns do not match the catalog; "
            f"missing {missing}, unexpected {extra}"
        )


def describe_columns(con: duckdb.DuckDBPyConnection, query: str,
                     params: Mapping[str, object]) -> list[str]:
    """The column names a SELECT (with named parameters) would produce, without running it."""
    return [row[0] for row in con.execute(f"DESCRIBE {query}", dict(params)).fetchall()]


def existing_types(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> list[tuple[str, str]]:
    """[(column, DuckDB type)] of the stored table, [] when it does not exist. DuckDB's own
    catalog functions, not information_schema (its views cost about 3x: paid at every read
    and write)."""
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = $schema AND table_name = $name ORDER BY column_index",
        {"schema": spec.schema, "name": spec.name},
    ).fetchall()


def present(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> set[str]:
    """Which of the qualified table or view `names` exist (DuckDB's catalog functions, as
    `existing_types`)."""
    return {r[0] for r in con.execute(
        "SELECT schema_name || '.' || table_name AS n FROM duckdb_tables() "
        "WHERE list_contains($names, n) UNION ALL "
        "SELECT schema_name || '.' || view_name AS n FROM duckdb_views() "
        "WHERE NOT internal AND list_contains($names, n)", {"names": list(names)}).fetchall()}


def ensure_table(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> bool:
    """Create the table, or migrate it when its columns differ from the catalog.

    Migration recreates the table and copies every repository's rows over, keeping the
    columns both versions have (cast with TRY_CAST; new columns are NULL until that
    repository is materialized again). Returns True when an existing table was migrated.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
    existing = existing_types(con, spec)
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
        run_statement(con, f"INSERT INTO {spec.qualified_name} ({names}) SELECT {casts} FROM {old}")
    con.execute(f"DROP TABLE {old}")
    return True
