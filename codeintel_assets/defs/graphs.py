"""Graph steps: import_graph (graph.import_graph_edges, graph.import_modules). Thin wiring:
the resolution, components and layers live in storage/graphs.py."""

import dagster as dg

from codeintel_assets.defs.common import outputs, step
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage import graphs

IMPORT_GRAPH_DEPS = ("core.imports", "core.modules")


@step("import_graph", (graphs.EDGES_TABLE, graphs.MODULES_TABLE),
      "core.imports resolved in DuckDB against core.modules (longest module prefix); "
      "strongly connected components and layers with networkx", IMPORT_GRAPH_DEPS)
def import_graph(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    for name in IMPORT_GRAPH_DEPS:
        warehouse.require(name)
    tables = graphs.import_graph(warehouse.gateway(), target.info().slug)
    edges, modules = tables[graphs.EDGES_TABLE], tables[graphs.MODULES_TABLE]
    yield from outputs(context, tables, {}, {
        graphs.EDGES_TABLE: {"internal_edges": sum(not e for e in
                                                   edges.column("is_external").to_pylist()),
                             "external_edges": sum(edges.column("is_external").to_pylist())},
        graphs.MODULES_TABLE: {"modules_in_cycles": sum(modules.column("in_cycle").to_pylist()),
                               "layers": len(set(modules.column("layer").to_pylist()))},
    })


GRAPH_ASSETS = [import_graph]
