"""The callgraph step (graph.call_graph_nodes, graph.call_graph_edges) and its checks. Thin
wiring: resolution lives in storage/callgraph.py and storage/call_linker.py, the file-local
half in extract/calls.py (run by repo_scan)."""

from dataclasses import asdict

import dagster as dg

from codeintel_assets.defs.checks import cross_table
from codeintel_assets.defs.common import key, outputs, skip_check, step, unchanged
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage import callgraph, queries
from codeintel_assets.storage.check_memo import memoized_one

# Not core.ast_nodes: what the call graph needs of each definition is in core.definition_refs,
# so `--select 'core/ast_nodes+'` (one layer down) does not pull in a step whose other inputs
# that selection never writes.
CALLGRAPH_DEPS = ("core.goids", "core.definition_refs", "core.call_sites", "core.imports",
                  "core.scip_symbols", "core.scip_occurrences")
# Below this share of call sites with a known target (in-repo, builtin or external) the
# resolved-share check warns: on django 5.2.19 80% are known with SCIP, 77% with the static
# rules alone (docs/assets.md, "The call graph").
RESOLVED_SHARE_FLOOR = 0.6


@step("callgraph", (callgraph.NODES_TABLE, callgraph.EDGES_TABLE),
      "core.call_sites resolved by the SCIP occurrence at the callee's name token, else by "
      "static rules over core.goids, core.definition_refs and core.imports", CALLGRAPH_DEPS)
def callgraph_step(context: dg.AssetExecutionContext, target: TargetRepo, warehouse: Warehouse):
    check = skip_check(context, warehouse)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require("core.goids", "core.definition_refs", "core.call_sites", "core.imports")
    scip = warehouse.has("core.scip_symbols", "core.scip_occurrences")
    graph = callgraph.call_graph(warehouse.gateway(), target.info().slug, scip,
                                 full=warehouse.full_rebuild)
    stats = graph.stats
    if not stats.scip_available:
        context.log.info("callgraph: core.scip_occurrences is empty (SCIP disabled or failed): "
                         "static rules only")
    share = stats.resolved_share
    write = graph.edges
    context.log.info(f"callgraph: {write.mode} write ({write.reason})")
    yield from outputs(context, {callgraph.NODES_TABLE: graph.nodes,
                                 callgraph.EDGES_TABLE: write.delta}, {}, {
        callgraph.EDGES_TABLE: {**asdict(stats), "update": write.mode, "reason": write.reason,
                                "files_rewritten": len(write.delta.to_delete)
                                if not write.delta.full else len(write.delta.ledger),
                                "rows_written": write.delta.rows.num_rows,
                                "resolution": "scip + static rules" if stats.scip_available
                                else "static rules only (no SCIP)",
                                "resolved_share": round(share, 4) if share is not None else None},
    }, built_from=check)


@dg.asset_check(asset=key(callgraph.EDGES_TABLE), additional_deps=[key("core.goids")],
                description="Every call edge's caller_goid and non-NULL callee_goid exist in "
                "core.goids.")
def call_edges_reference_goids(target: TargetRepo, warehouse: Warehouse) -> dg.AssetCheckResult:
    return cross_table(target, warehouse, "call_edges_reference_goids",
                       [callgraph.EDGES_TABLE, "core.goids"], queries.call_edge_unknown_goids,
                       queries.EdgeGoidCheck)


@dg.asset_check(asset=key(callgraph.EDGES_TABLE),
                description=f"Share of call sites whose target is known (in-repo GOID, builtin "
                f"or external); warns below {RESOLVED_SHARE_FLOOR:.0%}.")
def call_edges_resolved_share(target: TargetRepo, warehouse: Warehouse) -> dg.AssetCheckResult:
    gateway, repo = warehouse.gateway(), target.info().slug
    stats = memoized_one(gateway, repo, "call_edges_resolved_share", [callgraph.EDGES_TABLE],
                         lambda: callgraph.stored_stats(gateway, repo),
                         callgraph.CallGraphStats)
    share = stats.resolved_share
    return dg.AssetCheckResult(
        passed=share is None or share >= RESOLVED_SHARE_FLOOR,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**asdict(stats), "resolved_share": share, "floor": RESOLVED_SHARE_FLOOR,
                  "measured": "no call sites" if share is None else
                  f"{share:.1%} of call sites with a known target",
                  "threshold": f"at least {RESOLVED_SHARE_FLOOR:.0%}: below it the static "
                  "rules and SCIP explain too few calls to trust who-calls answers"})


CALLGRAPH_ASSETS = [callgraph_step]
CALLGRAPH_CHECKS = [call_edges_reference_goids, call_edges_resolved_share]
