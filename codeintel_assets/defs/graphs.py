"""Graph steps: import_graph (graph.import_graph_edges, graph.import_modules), symbol_uses
(graph.symbol_use_edges) and graph_metrics (analytics.graph_metrics_functions,
analytics.graph_metrics_modules, analytics.graph_stats). Thin wiring: the work is in
storage/graphs.py, storage/symbol_uses.py and storage/graph_metrics.py."""

import dagster as dg

from codeintel_assets.defs.common import outputs, skip_check, step, unchanged
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage import graph_metrics, graphs, symbol_uses

IMPORT_GRAPH_DEPS = ("core.imports", "core.modules")


@step("import_graph", (graphs.EDGES_TABLE, graphs.MODULES_TABLE),
      "core.imports resolved in DuckDB against core.modules (longest module prefix); "
      "strongly connected components and layers with igraph", IMPORT_GRAPH_DEPS)
def import_graph(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    check = skip_check(context, warehouse)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require(*IMPORT_GRAPH_DEPS)
    tables = graphs.import_graph(warehouse.gateway(), target.info().slug)
    edges, modules = tables[graphs.EDGES_TABLE], tables[graphs.MODULES_TABLE]
    yield from outputs(context, tables, {}, {
        graphs.EDGES_TABLE: {"internal_edges": sum(not e for e in
                                                   edges.column("is_external").to_pylist()),
                             "external_edges": sum(edges.column("is_external").to_pylist())},
        graphs.MODULES_TABLE: {"modules_in_cycles": sum(modules.column("in_cycle").to_pylist()),
                               "layers": len(set(modules.column("layer").to_pylist()))},
    }, built_from=check)


@step("symbol_uses", (symbol_uses.EDGES_TABLE,),
      "SCIP occurrences of the repository's own symbols, each attributed in DuckDB to the "
      "innermost GOID spanning its line; def_goid through core.goid_crosswalk",
      symbol_uses.READS)
def symbol_uses_step(context: dg.AssetExecutionContext, target: TargetRepo,
                     warehouse: Warehouse):
    check = skip_check(context, warehouse)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require(*symbol_uses.READS)
    uses = symbol_uses.symbol_uses(warehouse.gateway(), target.info().slug)
    if not uses.scip_rows:
        context.log.warning("symbol_uses: core.scip_occurrences is empty (scip-python disabled "
                            "or it indexed nothing); writing an empty table")
    elif uses.unattributed:
        context.log.warning(f"symbol_uses: {uses.unattributed} uses lie in lines no GOID spans "
                            "(files without core.goids rows); left out")
    yield from outputs(context, {symbol_uses.EDGES_TABLE: uses.edges}, uses.as_metadata(),
                       built_from=check)


@step("graph_metrics", graph_metrics.TABLES,
      "fan in/out and degrees in DuckDB; PageRank, betweenness, closeness, components, "
      "layers, clustering and diameter with igraph", graph_metrics.READS)
def graph_metrics_step(context: dg.AssetExecutionContext, target: TargetRepo,
                       warehouse: Warehouse):
    check = skip_check(context, warehouse)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require(*graph_metrics.READS)
    metrics = graph_metrics.graph_metrics(warehouse.gateway(), target.info().slug)
    stats = {r["graph"]: r for r in metrics.tables[graph_metrics.STATS_TABLE].to_pylist()}
    yield from outputs(context, metrics.tables, metrics.as_metadata(), {
        graph_metrics.STATS_TABLE: {f"{g}_{k}": r[k] for g, r in stats.items()
                                    for k in ("nodes", "edges", "sccs", "layers")},
    }, built_from=check)


GRAPH_ASSETS = [import_graph, symbol_uses_step, graph_metrics_step]
