"""How warehouse views (docs.v_*) are declared and created: SQL over the catalog's tables, stored
in the DuckDB file as views, so every repository's rows are always current without being copied.
The views themselves are in storage/views.py and the modules it imports. Each view declares the
tables it reads (its asset's deps) and its columns (`name TYPE -- description`, as the catalog's
tables); `create_view` checks that the SELECT produces exactly those columns. The gateway
creates them under its lock (StorageGateway.replace_view, replace_views). Imports only duckdb and the table
notation, so the gateway can import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from codeintel_assets.storage.table_spec import Column, parse_columns


@dataclass(frozen=True)
class MadeView:
    """A view the docs_views step brought current (StorageGateway.replace_views): `columns`
    its (column, type) pairs when it was created now, None when it was kept as it was."""

    spec: ViewSpec
    columns: list[tuple[str, str]] | None


class ViewMismatchError(ValueError):
    """A view's SELECT does not produce its declared columns (names, order and types)."""


@dataclass(frozen=True)
class ViewSpec:
    """One view: `schema.name`, the catalog tables its SELECT reads, its columns in order,
    and the SELECT itself (all repositories: a view takes no parameters, so it joins on repo)."""

    schema: str
    name: str
    reads: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    select: str

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def base(self) -> str:
        """The table the view has one row per row of: the first it reads (its asset check,
        defs/checks.py's view_rows_check, compares the two counts)."""
        return self.reads[0]


_IDENT = re.compile(r"[a-z_][a-z0-9_]*")

# Every view of the warehouse, by qualified name.
VIEWS: dict[str, ViewSpec] = {}


def define_view(schema: str, name: str, reads: tuple[str, ...], description: str,
                columns: str, select: str) -> ViewSpec:
    """Register view `schema.name` (columns in the catalog's notation, in SELECT order).
    `reads` starts with the view's base: the table it has exactly one row per row of."""
    assert _IDENT.fullmatch(schema) and _IDENT.fullmatch(name), (schema, name)
    spec = ViewSpec(schema, name, tuple(reads), parse_columns(columns), description, select)
    VIEWS[spec.qualified_name] = spec
    return spec


def view(qualified_name: str) -> ViewSpec:
    try:
        return VIEWS[qualified_name]
    except KeyError:
        raise KeyError(f"{qualified_name!r} is not a view of the warehouse") from None


def create_view(con: duckdb.DuckDBPyConnection, spec: ViewSpec) -> list[tuple[str, str]]:
    """CREATE OR REPLACE the view on `con` (the caller holds the gateway's lock) and return its
    (column, DuckDB type) pairs. Raises duckdb.CatalogException when a table it reads does not
    exist, ViewMismatchError when its columns differ from the declared ones; the view is then
    left as it was (one transaction)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
        con.execute(f"CREATE OR REPLACE VIEW {spec.qualified_name} AS {spec.select}")
        got = [(r[0], r[1]) for r in con.execute(
            f"DESCRIBE SELECT * FROM {spec.qualified_name}").fetchall()]
        wanted = [(c.name, c.duckdb_type) for c in spec.columns]
        if got != wanted:
            raise ViewMismatchError(f"{spec.qualified_name}: the SELECT produces {got}, the "
                                    f"declaration says {wanted}")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return got
