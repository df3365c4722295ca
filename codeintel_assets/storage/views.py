"""Warehouse views (docs.v_*): SQL over the catalog's tables, stored in the DuckDB file as
views, so every repository's rows are always current without being copied. Each view declares
the tables it reads (its asset's deps) and its columns (`name TYPE -- description`, as the
catalog's tables); `create_view` checks that the SELECT produces exactly those columns. The
gateway creates them under its lock (StorageGateway.replace_view). Imports only duckdb and the
table notation, so the gateway can import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from codeintel_assets.storage.table_spec import Column, parse_columns


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


_IDENT = re.compile(r"[a-z_][a-z0-9_]*")

# Every view of the warehouse, by qualified name.
VIEWS: dict[str, ViewSpec] = {}


def define_view(schema: str, name: str, reads: tuple[str, ...], description: str,
                columns: str, select: str) -> ViewSpec:
    """Register view `schema.name` (columns in the catalog's notation, in SELECT order)."""
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


CALL_GRAPH_ENRICHED = define_view(
    "docs", "v_call_graph_enriched", ("graph.call_graph_edges", "graph.call_graph_nodes"),
    "Every call edge of graph.call_graph_edges with its caller's and callee's qualname, file "
    "and kind from graph.call_graph_nodes (callee columns NULL for unresolved, builtin and "
    "external calls).", """
repo VARCHAR -- repository slug
commit VARCHAR -- snapshot of the edge
caller_goid DECIMAL(38,0) -- the innermost definition enclosing the call
caller_qualname VARCHAR -- its qualname
caller_kind VARCHAR -- module | class | function | method
caller_rel_path VARCHAR -- its file
callsite_path VARCHAR -- file of the call
callsite_line INTEGER -- line of the call
callsite_col INTEGER -- column of the call
callee_goid DECIMAL(38,0) -- the called definition; NULL when not resolved to the repository
callee_qualname VARCHAR -- its qualname
callee_kind VARCHAR -- module | class | function | method
callee_rel_path VARCHAR -- its file
callee_name VARCHAR -- the callee expression as written
callee_target VARCHAR -- dotted target where known (builtins.len, os.path.join)
kind VARCHAR -- direct | unresolved
resolved_via VARCHAR -- the resolution rule (graph.call_graph_edges)
confidence DOUBLE -- 1.0 for scip, lower for static rules
""", """
SELECT e.repo, e."commit", e.caller_goid, cr.qualname AS caller_qualname,
       cr.kind AS caller_kind, cr.rel_path AS caller_rel_path,
       e.callsite_path, e.callsite_line, e.callsite_col,
       e.callee_goid, ce.qualname AS callee_qualname, ce.kind AS callee_kind,
       ce.rel_path AS callee_rel_path, e.callee_name, e.callee_target, e.kind,
       e.resolved_via, e.confidence
FROM graph.call_graph_edges e
LEFT JOIN graph.call_graph_nodes cr ON cr.repo = e.repo AND cr.goid = e.caller_goid
LEFT JOIN graph.call_graph_nodes ce ON ce.repo = e.repo AND ce.goid = e.callee_goid
""")


# The function layer's views register themselves on import, as the catalog modules do.
from codeintel_assets.storage import views_functions  # noqa: E402,F401
