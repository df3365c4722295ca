"""The module import graph: graph.import_graph_edges and graph.import_modules of one repository,
from core.imports and core.modules. No Dagster.

Edges are resolved and aggregated inside DuckDB (IMPORT_EDGES_SQL), so only the distinct
(src, dst) pairs reach Python; the strongly connected components and layers are computed on
them with igraph (storage/graph_measures.py, shared with graph_metrics).

Resolution of one core.imports row (`imported` is already absolute, `from a import b` -> a.b):
the destination is the longest dotted prefix of `imported` that is a module of core.modules
(name_status 'import': a disambiguated or invalid name is never an import target)
(`from pkg import sub`, sub a module -> pkg.sub; `from pkg import func` -> pkg; `import a.b.c`
-> a.b.c, else its longest module prefix). Without such a prefix the target is external and the
destination is its top-level package name (`os.path` -> `os`). Relative imports that climb above
the top-level package (`imported` starting with a dot: Python raises ImportError) and
self-edges are dropped.

The graph of cycles and layers is the static one: every internal edge counts, those behind
`if TYPE_CHECKING:` and inside functions too (as grimp's); the edge flags type_checking_only and
function_scope_only let a query leave them out.
"""

from __future__ import annotations

import igraph as ig
import pyarrow as pa

from codeintel_assets.storage import graph_measures
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway, conform

EDGES_TABLE = "graph.import_graph_edges"
MODULES_TABLE = "graph.import_modules"

# Prefixes are generated per statement and equality-joined to core.modules, so resolution stays
# linear in imports (never imports x modules); arg_max keeps the longest module prefix.
IMPORT_EDGES_SQL = """
WITH stmts AS (
    SELECT row_number() OVER () AS row_id, module AS src, rel_path, lineno, col_offset,
           imported, string_split(imported, '.') AS parts,
           coalesce(in_type_checking, false) AS in_type_checking,
           scope = 'function' AS in_function
    FROM core.imports
    WHERE repo = $repo AND module IS NOT NULL AND coalesce(imported, '') <> ''
      AND NOT starts_with(imported, '.')
), prefixes AS (
    SELECT row_id, k, array_to_string(parts[1:k], '.') AS prefix
    FROM stmts, unnest(generate_series(1, len(parts))) AS t(k)
), best AS (
    SELECT p.row_id, arg_max(p.prefix, p.k) AS dst
    FROM prefixes p JOIN core.modules m ON m.repo = $repo AND m.module = p.prefix
        AND m.name_status = 'import'
    GROUP BY p.row_id
), resolved AS (
    SELECT s.*, coalesce(b.dst, s.parts[1]) AS dst, b.dst IS NULL AS is_external
    FROM stmts s LEFT JOIN best b USING (row_id)
), edges AS (
    SELECT src AS src_module, dst AS dst_module,
           count(DISTINCT (rel_path, lineno, col_offset))::INTEGER AS edge_count,
           bool_or(is_external) AS is_external,
           bool_and(in_type_checking) AS type_checking_only,
           bool_and(in_function) AS function_scope_only
    FROM resolved WHERE src <> dst
    GROUP BY src, dst
)
SELECT $repo AS repo, src_module, dst_module, edge_count, is_external, type_checking_only,
       function_scope_only,
       (count(*) FILTER (WHERE NOT is_external) OVER (PARTITION BY src_module))::INTEGER
           AS src_fan_out,
       (count(*) OVER (PARTITION BY dst_module))::INTEGER AS dst_fan_in
FROM edges
ORDER BY src_module, dst_module
"""

MODULES_SQL = """
SELECT module, rel_path FROM core.modules WHERE repo = $repo ORDER BY module
"""

COMMIT_SQL = """
SELECT coalesce((SELECT max("commit") FROM core.imports WHERE repo = $repo),
                (SELECT max("commit") FROM core.modules WHERE repo = $repo), '') AS "commit"
"""


def components(modules: list[str], edges: list[tuple[str, str]]) -> tuple[dict[str, int],
                                                                         dict[int, int],
                                                                         dict[int, int]]:
    """Strongly connected components and layers of the internal import graph.

    Returns (scc_id per module, size per scc_id, layer per scc_id). scc ids are 1, 2, ... in
    the order of each component's smallest module name, so they depend on the graph only.
    The layer of a component is its depth in the condensation DAG counted from the bottom:
    0 when it imports no module outside its component, else 1 + the highest layer it imports.
    Computed by graph_measures.components (igraph), the one implementation graph_metrics uses
    too, on the modules in name order.
    """
    names = sorted(set(modules))
    index = {m: i for i, m in enumerate(names)}
    graph = ig.Graph(n=len(names), edges=sorted({(index[a], index[b]) for a, b in edges
                                                 if a != b}), directed=True)
    scc_ids, sizes, layers = graph_measures.components(graph)
    scc = {m: scc_ids[i] for i, m in enumerate(names)}
    return scc, {scc_ids[i]: sizes[i] for i in range(len(names))}, \
        {scc_ids[i]: layers[i] for i in range(len(names))}


def import_graph(gateway: StorageGateway, repo: str) -> dict[str, pa.Table]:
    """graph.import_graph_edges and graph.import_modules of `repo` (whole-repository tables),
    from its core.imports and core.modules rows, conformed to the catalog."""
    params = {"repo": repo}
    with gateway.connect() as con:  # one connection: the three reads see one state
        edges = con.sql(IMPORT_EDGES_SQL, params=params).to_arrow_table()
        mods = con.sql(MODULES_SQL, params=params).to_arrow_table()
        commit = con.sql(COMMIT_SQL, params=params).to_arrow_table().column(0)[0].as_py()
    modules = mods.column("module").to_pylist()
    internal = [(r["src_module"], r["dst_module"]) for r in edges.to_pylist()
                if not r["is_external"]]
    scc, size, layer = components(modules, internal)
    cycle = [scc[s] if not ext and scc[s] == scc[d] and size[scc[s]] > 1 else None
             for s, d, ext in zip(edges.column("src_module").to_pylist(),
                                  edges.column("dst_module").to_pylist(),
                                  edges.column("is_external").to_pylist())]
    edges = edges.append_column("commit", pa.array([commit] * len(edges), pa.string())) \
                 .append_column("cycle_group", pa.array(cycle, pa.int32()))
    fan_in: dict[str, int] = {}
    fan_out: dict[str, int] = {}
    for s, d in internal:
        fan_out[s] = fan_out.get(s, 0) + 1
        fan_in[d] = fan_in.get(d, 0) + 1
    rows = {
        "repo": [repo] * len(modules), "commit": [commit] * len(modules),
        "module": modules, "rel_path": mods.column("rel_path").to_pylist(),
        "fan_in": [fan_in.get(m, 0) for m in modules],
        "fan_out": [fan_out.get(m, 0) for m in modules],
        "scc_id": [scc[m] for m in modules],
        "component_size": [size[scc[m]] for m in modules],
        "in_cycle": [size[scc[m]] > 1 for m in modules],
        "layer": [layer[scc[m]] for m in modules],
    }
    return {EDGES_TABLE: conform(table(EDGES_TABLE), edges),
            MODULES_TABLE: conform(table(MODULES_TABLE), pa.table(rows))}
