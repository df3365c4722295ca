"""Named read queries of the warehouse: asset code passes values, never SQL.

Every statement here binds its values as DuckDB named parameters (`$repo`, `$paths`); column
names come from the catalog and are checked against it before they reach SQL, so nothing a
caller passes is spliced into a statement. Functions raise MissingTableError (from the gateway)
when `required` and the table was never written, and StaleTableError when a stored table lacks
a requested column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import pyarrow as pa

from codeintel_assets.storage.catalog import TableSpec, table
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets.storage.tables import present

FILE_STATE_COLUMNS = ["rel_path", "commit", "parse_status", "parse_error", "content_hash"]


def rows(gateway: StorageGateway, spec: TableSpec, repo: str,
         columns: Sequence[str] | None = None, *, paths: Sequence[str] | None = None,
         equal: Mapping[str, object] | None = None,
         one_of: Mapping[str, Sequence[object]] | None = None,
         required: bool = False) -> pa.Table:
    """`repo`'s rows of `spec` as Arrow (`columns`, default all), restricted to the files of
    `paths` (its path column; None = every file), to rows whose columns equal the values of
    `equal` (SQL equality: None matches nothing), and to rows whose column is one of the
    values of `one_of`. Raises ValueError for
    a column the catalog does not list (or `paths` on a table without a path column)."""
    conditions, params = [], {}
    if paths is not None:
        if spec.path_column is None:
            raise ValueError(f"{spec.qualified_name} has no path column to filter by")
        conditions.append(f'list_contains($paths, "{spec.path_column}")')
        params["paths"] = list(paths)
    for i, (column, value) in enumerate((equal or {}).items()):
        conditions.append(f'"{_column(spec, column)}" = $eq{i}')
        params[f"eq{i}"] = value
    for i, (column, values) in enumerate((one_of or {}).items()):
        conditions.append(f'list_contains($in{i}, "{_column(spec, column)}")')
        params[f"in{i}"] = list(values)
    wanted = [_column(spec, c) for c in columns] if columns else None
    return gateway.read_table(spec, repo, wanted, " AND ".join(conditions), params,
                              required=required)


def _column(spec: TableSpec, name: str) -> str:
    if name not in spec.column_names:
        raise ValueError(f"{spec.qualified_name} has no column {name!r}")
    return name


def file_state(gateway: StorageGateway, repo: str, python: bool) -> pa.Table:
    """core.file_state rows (FILE_STATE_COLUMNS) of `repo`'s Python files, or of its other
    (config) files when not `python`. Raises MissingTableError before the first scan."""
    spec = table("core.file_state")
    return gateway.read_table(spec, repo, FILE_STATE_COLUMNS,
                              "(language = 'python') = $python", {"python": python},
                              required=True)


def definition_nodes(gateway: StorageGateway, repo: str, node_types: Sequence[str],
                     columns: Sequence[str], paths: Sequence[str] | None = None) -> pa.Table:
    """core.ast_nodes rows of `repo` whose node_type is one of `node_types` (the definitions
    GOIDs and typedness are built from), of the files of `paths` (None = all)."""
    return rows(gateway, table("core.ast_nodes"), repo, columns, paths=paths,
                one_of={"node_type": node_types}, required=True)


def file_state_digest(gateway: StorageGateway, repo: str) -> str:
    """An md5 hex digest of `repo`'s files and content hashes (core.file_state): equal digests,
    equal work trees as scanned."""
    return gateway.query(
        "SELECT md5(coalesce(string_agg(rel_path || ':' || content_hash, ',' ORDER BY rel_path),"
        " '')) AS digest FROM core.file_state WHERE repo = $repo",
        {"repo": repo}).column(0)[0].as_py()


# Below this share of class, function and method GOIDs with a SCIP symbol the symbol index is
# missing files (a target's pyright `include` list, a crash) rather than the odd definition
# scip-python cannot place: 751 of 752 is a healthy index, 445 of 1,577 is not.
SCIP_SHARE_FLOOR = 0.98


@dataclass(frozen=True)
class _CheckCounts:
    """Counts an asset check reports. `as_metadata` is the check's metadata: the counts by
    field name, `measured` (the counts in words) and `threshold` (when the check passes, and
    why), which the CLI prints for a check that fails."""

    THRESHOLD = ""

    def measured(self) -> str:
        raise NotImplementedError

    def as_metadata(self) -> dict[str, int | float | str]:
        return {**asdict(self), "measured": self.measured(), "threshold": self.THRESHOLD}


@dataclass(frozen=True)
class KeyViolations(_CheckCounts):
    """Primary-key health of one repository's rows of a table."""

    row_count: int
    null_keys: int
    duplicate_keys: int

    THRESHOLD = "no NULL and no duplicated key: the primary key names one row"

    @property
    def passed(self) -> bool:
        return self.null_keys == 0 and self.duplicate_keys == 0

    def measured(self) -> str:
        return (f"{self.null_keys:,} rows with a NULL key, {self.duplicate_keys:,} duplicated "
                f"keys in {self.row_count:,} rows")


@dataclass(frozen=True)
class GoidCoverage(_CheckCounts):
    """ClassDef/FunctionDef/AsyncFunctionDef rows of core.ast_nodes matched to core.goids."""

    definitions: int
    without_goid: int
    with_several_goids: int

    THRESHOLD = "every definition has exactly one GOID"

    @property
    def passed(self) -> bool:
        return self.without_goid == 0 and self.with_several_goids == 0

    def measured(self) -> str:
        return (f"{self.without_goid:,} of {self.definitions:,} definitions without a GOID, "
                f"{self.with_several_goids:,} with several")


@dataclass(frozen=True)
class ScipSymbolCoverage(_CheckCounts):
    """Class, function and method GOIDs, and those whose crosswalk row has a SCIP symbol."""

    definitions: int
    with_scip_symbol: int

    THRESHOLD = (f"at least {SCIP_SHARE_FLOOR:.0%}: below it the index misses whole files "
                 "(a pyright include list, a crash), not the odd definition")

    @property
    def share(self) -> float:
        # No definitions means nothing lacks a symbol: full coverage, not a division by zero.
        return self.with_scip_symbol / self.definitions if self.definitions else 1.0

    @property
    def passed(self) -> bool:
        return self.share >= SCIP_SHARE_FLOOR

    def measured(self) -> str:
        return (f"{self.with_scip_symbol:,} of {self.definitions:,} GOIDs with a SCIP symbol "
                f"({self.share:.1%})")

    def as_metadata(self) -> dict[str, int | float | str]:
        """The counts and the share (4 places) keyed by name: the asset check metadata."""
        return {**super().as_metadata(), "share": round(self.share, 4)}


def existing_tables(gateway: StorageGateway, names: Sequence[str]) -> set[str]:
    """Which of the qualified table `names` exist in the database, in one query (a step
    checking its inputs pays one open, not one per table)."""
    if not names:
        return set()
    with gateway.connect() as con:
        return present(con, names)


def primary_key_violations(gateway: StorageGateway, specs: Sequence[TableSpec],
                           repo: str) -> dict[str, KeyViolations]:
    """Qualified name -> row count, NULL keys and duplicated keys of `repo`'s rows of each of
    `specs` for its catalog primary key, in one statement (one connection: a check step of
    several tables costs one open)."""
    parts = []
    for spec in specs:
        pk = ", ".join(f'"{c}"' for c in spec.primary_key)
        nulls = " OR ".join(f'"{c}" IS NULL' for c in spec.primary_key)
        parts.append(
            f"SELECT '{spec.qualified_name}' AS name, count(*) AS row_count, "
            f"count(*) FILTER (WHERE {nulls}) AS null_keys, "
            f"(SELECT count(*) FROM (SELECT {pk} FROM {spec.qualified_name} WHERE repo = $repo "
            f"GROUP BY ALL HAVING count(*) > 1)) AS duplicate_keys "
            f"FROM {spec.qualified_name} WHERE repo = $repo")
    if not parts:
        return {}
    rows = gateway.query(" UNION ALL ".join(parts), {"repo": repo}).to_pylist()
    return {r.pop("name"): KeyViolations(**r) for r in rows}


def goid_coverage(gateway: StorageGateway, repo: str) -> GoidCoverage:
    """ClassDef/FunctionDef/AsyncFunctionDef rows of core.ast_nodes of `repo` matched to
    core.goids on (rel_path, qualname): how many, how many match none, how many several."""
    row = gateway.query("""
        WITH defs AS (
            SELECT a.rel_path, a.qualname, count(g.goid) AS goid_count
            FROM core.ast_nodes a
            LEFT JOIN core.goids g
              ON g.repo = a.repo AND g.rel_path = a.rel_path AND g.qualname = a.qualname
            WHERE a.repo = $repo AND a.node_type IN ('ClassDef', 'FunctionDef', 'AsyncFunctionDef')
            GROUP BY ALL
        )
        SELECT count(*) AS definitions,
               count(*) FILTER (WHERE goid_count = 0) AS without_goid,
               count(*) FILTER (WHERE goid_count > 1) AS with_several_goids
        FROM defs""", {"repo": repo}).to_pylist()[0]
    return GoidCoverage(**row)


def scip_symbol_coverage(gateway: StorageGateway, repo: str) -> ScipSymbolCoverage:
    """Class, function and method GOIDs of `repo` and those whose core.goid_crosswalk row has
    a SCIP symbol."""
    row = gateway.query(
        """SELECT count(*) AS definitions, count(x.scip_symbol) AS with_scip_symbol
           FROM core.goids g JOIN core.goid_crosswalk x USING (repo, goid)
           WHERE g.repo = $repo AND g.kind <> 'module'""", {"repo": repo}).to_pylist()[0]
    return ScipSymbolCoverage(**row)


@dataclass(frozen=True)
class NodeRows(_CheckCounts):
    """Rows of a metrics table against the nodes of its graph (one row per node)."""

    nodes: int
    metric_rows: int
    nodes_without_row: int
    rows_without_node: int

    THRESHOLD = "one row per node and no other rows"

    @property
    def passed(self) -> bool:
        return self.nodes_without_row == 0 and self.rows_without_node == 0

    def measured(self) -> str:
        return (f"{self.nodes_without_row:,} of {self.nodes:,} nodes without a row, "
                f"{self.rows_without_node:,} of {self.metric_rows:,} rows without a node")


def node_rows(gateway: StorageGateway, repo: str, metrics: str, nodes: str,
              node_key: str, node_filter: str = "TRUE") -> NodeRows:
    """`repo`'s rows of the catalog table `metrics` matched to those of `nodes` on `node_key`
    (a column of both): counts, nodes without a row, rows without a node. `node_filter` is a
    fixed SQL condition on `nodes` (code, never user input): which of its rows are nodes."""
    m, n = table(metrics), table(nodes)
    col = f'"{_column(m, _column(n, node_key))}"'
    row = gateway.query(f"""
        WITH n AS (SELECT {col} AS k FROM {n.qualified_name}
                   WHERE repo = $repo AND ({node_filter})),
             m AS (SELECT {col} AS k FROM {m.qualified_name} WHERE repo = $repo)
        SELECT (SELECT count(*) FROM n) AS nodes, (SELECT count(*) FROM m) AS metric_rows,
               (SELECT count(*) FROM n ANTI JOIN m USING (k)) AS nodes_without_row,
               (SELECT count(*) FROM m ANTI JOIN n USING (k)) AS rows_without_node""",
                        {"repo": repo}).to_pylist()[0]
    return NodeRows(**row)


@dataclass(frozen=True)
class ViewRows(_CheckCounts):
    """One repository's rows of a view against those of the table it summarizes (its base)."""

    view_rows: int
    base_rows: int

    THRESHOLD = "as many rows as its base table"

    @property
    def passed(self) -> bool:
        return self.view_rows == self.base_rows

    def measured(self) -> str:
        return f"{self.view_rows:,} rows in the view, {self.base_rows:,} in its base table"


def view_rows(gateway: StorageGateway, repo: str, views: Mapping[str, str]
              ) -> dict[str, ViewRows]:
    """View -> counts of `repo`'s rows of the view and of its base table (`views`: view ->
    base table), in one statement (each view's SELECT runs in full, so a view that no longer
    compiles fails here)."""
    parts = [f"""SELECT '{view}' AS name,
               (SELECT count(*) FROM {view} WHERE repo = $repo) AS view_rows,
               (SELECT count(*) FROM {table(base).qualified_name} WHERE repo = $repo)
               AS base_rows""" for view, base in views.items()]
    if not parts:
        return {}
    rows = gateway.query(" UNION ALL ".join(parts), {"repo": repo}).to_pylist()
    return {r.pop("name"): ViewRows(**r) for r in rows}


@dataclass(frozen=True)
class UnknownGoids(_CheckCounts):
    """graph.symbol_use_edges rows whose def_goid (when set) or use_goid is not in core.goids."""

    edges: int
    unknown_def_goid: int
    unknown_use_goid: int

    THRESHOLD = "every GOID an edge names is in core.goids"

    @property
    def passed(self) -> bool:
        return self.unknown_def_goid == 0 and self.unknown_use_goid == 0

    def measured(self) -> str:
        return (f"{self.unknown_def_goid:,} unknown def_goid, {self.unknown_use_goid:,} "
                f"unknown use_goid in {self.edges:,} edges")


def symbol_use_unknown_goids(gateway: StorageGateway, repo: str) -> UnknownGoids:
    """Counts of `repo`'s graph.symbol_use_edges rows and of those naming a GOID core.goids
    does not have."""
    row = gateway.query("""
        SELECT count(*) AS edges,
               count(*) FILTER (WHERE def_goid IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM core.goids g WHERE g.repo = e.repo AND g.goid = e.def_goid))
                   AS unknown_def_goid,
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM core.goids g WHERE g.repo = e.repo AND g.goid = e.use_goid))
                   AS unknown_use_goid
        FROM graph.symbol_use_edges e WHERE e.repo = $repo""", {"repo": repo}).to_pylist()[0]
    return UnknownGoids(**row)


@dataclass(frozen=True)
class EdgeGoidCheck(_CheckCounts):
    """Call edges whose caller_goid, or non-NULL callee_goid, is not in core.goids."""

    edges: int
    missing_caller: int
    missing_callee: int

    THRESHOLD = "every GOID an edge names is in core.goids"

    @property
    def passed(self) -> bool:
        return self.missing_caller == 0 and self.missing_callee == 0

    def measured(self) -> str:
        return (f"{self.missing_caller:,} unknown callers, {self.missing_callee:,} unknown "
                f"callees in {self.edges:,} edges")


def call_edge_unknown_goids(gateway: StorageGateway, repo: str) -> EdgeGoidCheck:
    """Counts of `repo`'s graph.call_graph_edges rows and of those naming a GOID core.goids
    does not have."""
    row = gateway.query("""
        SELECT count(*) AS edges,
               count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM core.goids g
                   WHERE g.repo = e.repo AND g.goid = e.caller_goid)) AS missing_caller,
               count(*) FILTER (WHERE e.callee_goid IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM core.goids g WHERE g.repo = e.repo AND g.goid = e.callee_goid)
               ) AS missing_callee
        FROM graph.call_graph_edges e WHERE e.repo = $repo""", {"repo": repo}).to_pylist()[0]
    return EdgeGoidCheck(**row)
