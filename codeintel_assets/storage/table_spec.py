"""TableSpec: one warehouse table's columns (DuckDB type names), primary key and Arrow schema,
and the `name TYPE -- description` column notation the catalog is written in. Imports only
pyarrow, so worker processes load it cheaply."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa

# Bump when the meaning of stored rows changes without a column change (the column digest in
# TableSpec.version covers the rest): every file-level table is then rebuilt in full.
CATALOG_VERSION = 1

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
    "DECIMAL(38,0)": pa.decimal128(38, 0),
}


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One warehouse table: `schema.name`, its columns in order, and its primary key."""

    schema: str
    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, _ARROW_TYPES[c.duckdb_type]) for c in self.columns])

    @property
    def path_column(self) -> str | None:
        """The column naming the file a row comes from (what file-level updates delete by;
        graph.call_graph_edges is written per file of its call sites too)."""
        return next((c for c in ("config_path", "rel_path", "callsite_path")
                     if c in self.column_names), None)

    def version(self) -> str:
        """CATALOG_VERSION and a digest of the columns and types: rows written under another
        version must be rebuilt, not patched."""
        digest = hashlib.blake2b(self.ddl().encode(), digest_size=4).hexdigest()
        return f"catalog{CATALOG_VERSION}.{digest}"

    def ddl(self) -> str:
        cols = ", ".join(f'"{c.name}" {c.duckdb_type}' for c in self.columns)
        return f"CREATE TABLE {self.qualified_name} ({cols})"

    def select(self, columns: list[str]) -> "TableSpec":
        """The same table restricted to `columns` (for reads of a few columns)."""
        by_name = {c.name: c for c in self.columns}
        return TableSpec(self.schema, self.name, (), tuple(by_name[c] for c in columns),
                         self.description)

    def empty(self) -> pa.Table:
        return self.arrow_schema.empty_table()

    def from_rows(self, rows: list[dict]) -> pa.Table:
        """Build an Arrow table from row dicts; missing keys become NULL."""
        return pa.Table.from_pylist(rows, schema=self.arrow_schema)


def parse_columns(spec: str) -> tuple[Column, ...]:
    """Parse `name TYPE -- description` lines into columns (keeps the catalog readable)."""
    cols = []
    for line in filter(str.strip, spec.splitlines()):
        decl, _, desc = line.partition("--")
        name, duckdb_type = decl.split(None, 1)
        cols.append(Column(name.strip(), duckdb_type.strip(), desc.strip()))
    return tuple(cols)


_REPO = "repo VARCHAR -- repository slug: owner/name from the origin remote, else the folder name\n"
_SNAP = "commit VARCHAR -- 40-hex HEAD sha of the snapshot ('' outside Git)\n"

# Every table of the warehouse, filled by the catalog modules (storage/catalog.py for ingestion,
# storage/catalog_graphs.py for the graph layer) through define().
TABLES: dict[str, TableSpec] = {}


def define(schema: str, name: str, pk: tuple[str, ...], description: str, columns: str) -> None:
    """Register table `schema.name`: repo and commit columns first, then `columns` (the
    `name TYPE -- description` notation); every primary-key column must be declared."""
    spec = TableSpec(schema, name, pk, parse_columns(_REPO + _SNAP + columns), description)
    missing = set(pk) - set(spec.column_names)
    assert not missing, f"{spec.qualified_name}: primary key columns {missing} not declared"
    TABLES[spec.qualified_name] = spec
