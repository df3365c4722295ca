"""Graph metrics: analytics.graph_metrics_functions, analytics.graph_metrics_modules and
analytics.graph_stats of one repository, from the graph tables. No Dagster.

Counts (fan in/out, degrees, symbol fan in/out) are SQL inside DuckDB; the graphs reach
Python only as sorted node keys and distinct (src, dst) index pairs, and the measures are
igraph's (storage/graph_measures.py). The three graphs:

- call: nodes graph.call_graph_nodes, edges caller -> callee of graph.call_graph_edges with a
  callee_goid (unresolved, builtin and external calls are no edges). fan_in / fan_out count
  distinct callers / callees (a recursive function is its own caller), in_degree / out_degree
  call sites; a function that calls itself is in_cycle even alone in its component.
- import: nodes graph.import_modules, edges graph.import_graph_edges' internal edges
  (TYPE_CHECKING-only and function-scope ones included, as import_graph's components).
  scc_id, component_size, in_cycle and layer are graph.import_modules' own.
- symbol_use: definitions using definitions, use_goid -> def_goid of graph.symbol_use_edges
  (rows with a def_goid); its nodes are the GOIDs at either end of such a row. Only its
  graph_stats row is kept; symbol_fan_in / symbol_fan_out of a module count the distinct other
  modules using its symbols / whose symbols it uses (files mapped to modules by
  graph.import_modules.rel_path).

Measures run on distinct edges without self-loops; graph_stats.edges counts those.
Deterministic: the same tables give the same rows (sorted keys, a fixed-seed sample,
igraph single-threaded).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa

from codeintel_assets.storage import graph_measures
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway, conform

FUNCTIONS_TABLE = "analytics.graph_metrics_functions"
MODULES_TABLE = "analytics.graph_metrics_modules"
STATS_TABLE = "analytics.graph_stats"
TABLES = (FUNCTIONS_TABLE, MODULES_TABLE, STATS_TABLE)
READS = ("graph.call_graph_nodes", "graph.call_graph_edges", "graph.import_modules",
         "graph.import_graph_edges", "graph.symbol_use_edges")

# Per call-graph node (sorted by goid): the counts SQL can give.
CALL_NODES_SQL = """
WITH e AS (
    SELECT caller_goid, callee_goid, callsite_path, callsite_line, callsite_col
    FROM graph.call_graph_edges WHERE repo = $repo AND callee_goid IS NOT NULL
), fin AS (
    SELECT callee_goid AS goid, count(DISTINCT caller_goid) AS fan_in, count(*) AS in_degree
    FROM e GROUP BY 1
), fout AS (
    SELECT caller_goid AS goid, count(DISTINCT callee_goid) AS fan_out,
           -- a site with several callees (a handler dict) is one site
           count(DISTINCT (callsite_path, callsite_line, callsite_col)) AS out_degree,
           bool_or(caller_goid = callee_goid) AS calls_itself
    FROM e GROUP BY 1
)
SELECT n.goid, coalesce(fin.fan_in, 0)::INTEGER AS fan_in,
       coalesce(fout.fan_out, 0)::INTEGER AS fan_out,
       coalesce(fin.in_degree, 0)::INTEGER AS in_degree,
       coalesce(fout.out_degree, 0)::INTEGER AS out_degree,
       coalesce(fout.calls_itself, false) AS calls_itself
FROM graph.call_graph_nodes n
LEFT JOIN fin USING (goid) LEFT JOIN fout USING (goid)
WHERE n.repo = $repo
ORDER BY n.goid
"""

# (src, dst) node indexes of distinct edges without self-loops; nodes indexed in key order.
INDEXED_EDGES_SQL = """
WITH n AS (
    SELECT k, (row_number() OVER (ORDER BY k) - 1)::INTEGER AS i FROM ({nodes})
), e AS ({edges})
SELECT DISTINCT a.i AS src, b.i AS dst
FROM e JOIN n a ON a.k = e.src JOIN n b ON b.k = e.dst
WHERE a.i <> b.i
ORDER BY src, dst
"""

GRAPHS = {  # name: (node keys, edges as src, dst keys)
    "call": ("SELECT goid AS k FROM graph.call_graph_nodes WHERE repo = $repo",
             "SELECT caller_goid AS src, callee_goid AS dst FROM graph.call_graph_edges "
             "WHERE repo = $repo AND callee_goid IS NOT NULL"),
    "import": ("SELECT module AS k FROM graph.import_modules WHERE repo = $repo",
               "SELECT src_module AS src, dst_module AS dst FROM graph.import_graph_edges "
               "WHERE repo = $repo AND NOT is_external"),
    "symbol_use": ("SELECT use_goid AS k FROM graph.symbol_use_edges "
                   "WHERE repo = $repo AND def_goid IS NOT NULL UNION "
                   "SELECT def_goid FROM graph.symbol_use_edges "
                   "WHERE repo = $repo AND def_goid IS NOT NULL",
                   "SELECT use_goid AS src, def_goid AS dst FROM graph.symbol_use_edges "
                   "WHERE repo = $repo AND def_goid IS NOT NULL"),
}

MODULE_NODES_SQL = """
WITH fm AS (
    SELECT rel_path, module FROM graph.import_modules WHERE repo = $repo
), su AS (
    SELECT DISTINCT um.module AS user_module, dm.module AS owner_module
    FROM graph.symbol_use_edges s
    JOIN fm um ON um.rel_path = s.use_rel_path
    JOIN fm dm ON dm.rel_path = s.def_rel_path
    WHERE s.repo = $repo AND um.module <> dm.module
)
SELECT m.module, m.fan_in AS import_fan_in, m.fan_out AS import_fan_out, m.scc_id,
       m.component_size, m.in_cycle, m.layer,
       (SELECT count(*) FROM su WHERE su.owner_module = m.module)::INTEGER AS symbol_fan_in,
       (SELECT count(*) FROM su WHERE su.user_module = m.module)::INTEGER AS symbol_fan_out
FROM graph.import_modules m
WHERE m.repo = $repo
ORDER BY m.module
"""

COMMIT_SQL = """
SELECT coalesce((SELECT max("commit") FROM graph.call_graph_nodes WHERE repo = $repo),
                (SELECT max("commit") FROM graph.import_modules WHERE repo = $repo),
                (SELECT max("commit") FROM graph.symbol_use_edges WHERE repo = $repo), '')
"""


@dataclass(frozen=True)
class GraphMetrics:
    """The three tables (catalog schemas) and, per graph, its betweenness method and the
    seconds its measures took."""

    tables: dict[str, pa.Table]
    betweenness_method: dict[str, str] = field(default_factory=dict)
    measure_s: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, str | float | int]:
        meta: dict[str, str | float | int] = {"library": graph_measures.LIBRARY,
                                              "betweenness_seed": graph_measures.SEED,
                                              "betweenness_sample": graph_measures.BETWEENNESS_SAMPLE}
        meta.update({f"{g}_betweenness_method": m for g, m in self.betweenness_method.items()})
        meta.update({f"{g}_measure_s": round(s, 3) for g, s in self.measure_s.items()})
        return meta


def _indexed_edges(con, name: str, params: dict) -> tuple[int, list[tuple[int, int]]]:
    nodes, edges = GRAPHS[name]
    n = con.execute(f"SELECT count(*) FROM ({nodes})", params).fetchall()[0][0]
    pairs = con.sql(INDEXED_EDGES_SQL.format(nodes=nodes, edges=edges),
                    params=params).to_arrow_table()
    return int(n), list(zip(pairs["src"].to_pylist(), pairs["dst"].to_pylist()))


def graph_metrics(gateway: StorageGateway, repo: str) -> GraphMetrics:
    """The graph metrics tables of `repo` (whole-repository tables) from its call, import and
    symbol-use graph tables."""
    params = {"repo": repo}
    with gateway.connect() as con:  # one connection: every read sees one state
        call_nodes = con.sql(CALL_NODES_SQL, params=params).to_arrow_table()
        modules = con.sql(MODULE_NODES_SQL, params=params).to_arrow_table()
        graphs = {name: _indexed_edges(con, name, params) for name in GRAPHS}
        commit = con.execute(COMMIT_SQL, params).fetchall()[0][0]
    measured, seconds = {}, {}
    for name, (n, edges) in graphs.items():
        started = time.perf_counter()
        measured[name] = graph_measures.measure(n, edges, per_node=name != "symbol_use")
        seconds[name] = time.perf_counter() - started
    functions = _functions(repo, commit, call_nodes, measured["call"])
    mods = _modules(repo, commit, modules, measured["import"])
    stats = table(STATS_TABLE).from_rows([
        {"repo": repo, "commit": commit, "graph": name, **vars(m.shape)}
        for name, m in measured.items()])
    methods = {name: m.nodes.betweenness_method for name, m in measured.items() if m.nodes}
    return GraphMetrics({FUNCTIONS_TABLE: functions, MODULES_TABLE: mods, STATS_TABLE: stats},
                        methods, seconds)


def _functions(repo: str, commit: str, nodes: pa.Table,
               measured: graph_measures.Measured) -> pa.Table:
    m, n = measured.nodes, len(nodes)
    cycle = [size > 1 or self_call for size, self_call in
             zip(m.component_size, nodes["calls_itself"].to_pylist())]
    return conform(table(FUNCTIONS_TABLE), nodes.drop_columns(["calls_itself"]).append_column(
        "repo", pa.array([repo] * n, pa.string())).append_column(
        "commit", pa.array([commit] * n, pa.string())).append_column(
        "pagerank", pa.array(m.pagerank, pa.float64())).append_column(
        "betweenness", pa.array(m.betweenness, pa.float64())).append_column(
        "betweenness_method", pa.array([m.betweenness_method] * n, pa.string())).append_column(
        "closeness", pa.array(m.closeness, pa.float64())).append_column(
        "scc_id", pa.array(m.scc_id, pa.int32())).append_column(
        "component_size", pa.array(m.component_size, pa.int32())).append_column(
        "in_cycle", pa.array(cycle, pa.bool_())).append_column(
        "layer", pa.array(m.layer, pa.int32())))


def _modules(repo: str, commit: str, modules: pa.Table,
             measured: graph_measures.Measured) -> pa.Table:
    m, n = measured.nodes, len(modules)
    return conform(table(MODULES_TABLE), modules.append_column(
        "repo", pa.array([repo] * n, pa.string())).append_column(
        "commit", pa.array([commit] * n, pa.string())).append_column(
        "pagerank", pa.array(m.pagerank, pa.float64())).append_column(
        "betweenness", pa.array(m.betweenness, pa.float64())).append_column(
        "betweenness_method", pa.array([m.betweenness_method] * n, pa.string())).append_column(
        "closeness", pa.array(m.closeness, pa.float64())))
