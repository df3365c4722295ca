"""Asset checks: primary keys of every table, one row per base row of every view, GOID
coverage of ast definitions, the share of GOIDs with a SCIP symbol, the graph layer's (symbol uses name existing GOIDs, graph metrics have
one row per graph node) and the function layer's: one function_metrics, coverage_functions,
function_history and goid_risk_factors row per function and method GOID."""

from collections.abc import Callable
from typing import TypeVar

import dagster as dg
import duckdb

from codeintel_assets.defs.common import key
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage import queries
from codeintel_assets.storage.catalog import TABLES, TableSpec, table
from codeintel_assets.storage.check_memo import memoized, memoized_one
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets.storage.views import VIEWS, ViewSpec

PRIMARY_KEY_CHECK = "primary_key_unique_not_null"
VIEW_ROWS_CHECK = "one_row_per_base_row"
_Counts = TypeVar("_Counts")  # a storage/queries.py check result


def cross_table(target: TargetRepo, warehouse: Warehouse, memo_name: str, tables: list[str],
                compute: Callable[[StorageGateway, str], _Counts], result_type: type[_Counts],
                severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
                ) -> dg.AssetCheckResult:
    """The result of a check comparing `tables`: `compute(gateway, repo)` (a `result_type`
    of storage/queries.py, with `passed` and `as_metadata()`), memoized on the tables' tokens
    under `memo_name` (storage/check_memo.py). When one of them was never materialized in this
    database (a selection such as the repo_scan step alone leaves out core.goids), a failed
    result naming it instead of an error that fails the run; DuckDB's CatalogException with
    every table present is a defect and propagates."""
    gateway, repo = warehouse.gateway(), target.info().slug
    try:
        got = memoized_one(gateway, repo, memo_name, tables, lambda: compute(gateway, repo),
                           result_type)
    except duckdb.CatalogException:
        missing = [t for t in tables if not warehouse.has(t)]
        if not missing:
            raise
        return dg.AssetCheckResult(passed=False, severity=severity, metadata={
            "measured": f"not evaluated: {', '.join(missing)} never materialized in this "
            "database",
            "threshold": "materialize them too (select '*', or add them to the selection)"})
    return dg.AssetCheckResult(passed=got.passed, severity=severity,
                               metadata=got.as_metadata())


def _grouped_checks(name: str, check_name: str, by_key: dict, check_specs: list,
                    evaluate) -> dg.AssetChecksDefinition:
    """One check step `name` for `check_name` on every asset of `by_key` (asset key -> its
    spec), evaluated together: `evaluate(gateway, repo, [spec of each selected asset])` ->
    qualified name -> a result with `passed` and `as_metadata()`."""

    @dg.multi_asset_check(name=name, specs=check_specs, can_subset=True)
    def _check(context: dg.AssetCheckExecutionContext, target: TargetRepo,
               warehouse: Warehouse):
        selected = sorted({c.asset_key for c in context.selected_asset_check_keys},
                          key=lambda k: k.path)
        found = evaluate(warehouse.gateway(), target.info().slug, [by_key[k] for k in selected])
        for k in selected:
            result = found[by_key[k].qualified_name]
            yield dg.AssetCheckResult(asset_key=k, check_name=check_name,
                                      passed=result.passed, metadata=result.as_metadata())

    return _check


def primary_key_checks(step: str, specs: list[TableSpec]) -> dg.AssetChecksDefinition:
    """The primary-key checks of the tables one step writes, as one check step
    (`<step>_primary_keys`) reading every selected table in one statement: a check step costs
    a Dagster step and a DuckDB open, paid by every update, so the tables of a step share
    them. Each check fails when this repository's rows of its table repeat a primary key or
    leave a key column NULL."""
    by_key = {key(s.qualified_name): s for s in specs}
    return _grouped_checks(f"{step}_primary_keys", PRIMARY_KEY_CHECK, by_key, [
        dg.AssetCheckSpec(PRIMARY_KEY_CHECK, asset=k, description=f"({', '.join(s.primary_key)}) "
                          f"is unique and non-null in {s.qualified_name}.")
        for k, s in by_key.items()],
        _memo_primary_keys)


def _memo_primary_keys(gateway, repo: str, chosen: list[TableSpec]) -> dict:
    """`queries.primary_key_violations` of the tables of `chosen` that changed since their
    last check (`check_memo`); the others' results as recorded then."""
    specs = {f"{s.qualified_name}:{PRIMARY_KEY_CHECK}": s for s in chosen}
    found = memoized(
        gateway, repo, {n: [s.qualified_name] for n, s in specs.items()},
        lambda names: {f"{q}:{PRIMARY_KEY_CHECK}": v for q, v in queries.primary_key_violations(
            gateway, [specs[n] for n in names], repo).items()},
        queries.KeyViolations)
    return {specs[n].qualified_name: v for n, v in found.items()}


@dg.asset_check(
    asset=key("core.goids"), additional_deps=[key("core.ast_nodes")],
    description="Every ClassDef/FunctionDef/AsyncFunctionDef row of core.ast_nodes has exactly "
    "one GOID (matched on rel_path and qualname).",
)
def every_definition_has_one_goid(target: TargetRepo, warehouse: Warehouse) -> dg.AssetCheckResult:
    return cross_table(target, warehouse, "every_definition_has_one_goid",
                       ["core.ast_nodes", "core.goids"], queries.goid_coverage,
                       queries.GoidCoverage)


@dg.asset_check(
    asset=key("core.goid_crosswalk"), additional_deps=[key("core.goids")],
    description="Share of class, function and method GOIDs whose crosswalk row has a SCIP "
    f"symbol (warns below {queries.SCIP_SHARE_FLOOR:.0%}: the index then misses files).",
)
def goids_have_scip_symbols(target: TargetRepo, warehouse: Warehouse) -> dg.AssetCheckResult:
    return cross_table(target, warehouse, "goids_have_scip_symbols",
                       ["core.goids", "core.goid_crosswalk"], queries.scip_symbol_coverage,
                       queries.ScipSymbolCoverage, dg.AssetCheckSeverity.WARN)


@dg.asset_check(
    asset=key("graph.symbol_use_edges"), additional_deps=[key("core.goids")],
    description="Every use_goid and every non-NULL def_goid of graph.symbol_use_edges is a "
    "GOID of core.goids.")
def symbol_uses_name_known_goids(target: TargetRepo, warehouse: Warehouse
                                 ) -> dg.AssetCheckResult:
    return cross_table(target, warehouse, "symbol_uses_name_known_goids",
                       ["graph.symbol_use_edges", "core.goids"],
                       queries.symbol_use_unknown_goids, queries.UnknownGoids)


def metrics_per_node_check(metrics: str, nodes: str, node_key: str,
                           name: str = "one_row_per_graph_node", node_filter: str = "TRUE",
                           which: str = "") -> dg.AssetChecksDefinition:
    """Fails unless `metrics` has exactly one row per node of `nodes` (matched on node_key;
    the nodes are the rows of `nodes` meeting the fixed SQL `node_filter`, `which` says so)."""

    @dg.asset_check(asset=key(metrics), name=name, additional_deps=[key(nodes)],
                    description=f"{metrics} has a row for every {which}{node_key} of {nodes} "
                    "and no other rows.")
    def _check(target: TargetRepo, warehouse: Warehouse) -> dg.AssetCheckResult:
        return cross_table(target, warehouse, f"{metrics}:{name}", [metrics, nodes],
                           lambda gateway, repo: queries.node_rows(
                               gateway, repo, metrics, nodes, node_key, node_filter),
                           queries.NodeRows)

    return _check


GRAPH_CHECKS = [
    symbol_uses_name_known_goids,
    metrics_per_node_check("analytics.graph_metrics_functions", "graph.call_graph_nodes", "goid"),
    metrics_per_node_check("analytics.graph_metrics_modules", "graph.import_modules", "module"),
    # One row per function and method GOID: function_metrics is written by repo_scan (core.goids
    # by goids from the same ast rows), the others from core.goids of the same snapshot. A
    # stub a .py beside it implements, and an @overload signature, never run: no rows
    # (core.goids.shadowed_stub, is_overload).
    *(metrics_per_node_check(name, "core.goids", "goid", "one_row_per_function_goid",
                             "kind IN ('function', 'method') AND NOT shadowed_stub "
                             "AND NOT is_overload", "function and method (stubs a .py "
                             "implements and @overload signatures excepted) ")
      for name in ("analytics.function_metrics", "analytics.coverage_functions",
                   "analytics.function_history", "analytics.goid_risk_factors")),
]


def view_rows_checks(step: str, specs: list[ViewSpec]) -> dg.AssetChecksDefinition:
    """One check step (`<step>_view_rows`) for the views one step creates: each fails unless
    its view answers a query and has one row per row of its base table."""
    by_key = {key(s.qualified_name): s for s in specs}
    return _grouped_checks(f"{step}_view_rows", VIEW_ROWS_CHECK, by_key, [
        dg.AssetCheckSpec(VIEW_ROWS_CHECK, asset=k, additional_deps=[key(s.base)],
                          description=f"{s.qualified_name} is queryable and has exactly one "
                          f"row per row of {s.base}.") for k, s in by_key.items()],
        lambda gateway, repo, chosen: queries.view_rows(
            gateway, repo, {v.qualified_name: v.base for v in chosen}))


def build_checks(assets) -> list[dg.AssetChecksDefinition]:
    """Primary-key checks of every table the assets write and a row-count check of every
    view, grouped per step (one check step each), plus the cross-table checks."""
    defined = {k for a in assets for k in a.keys}
    graph_checks = [c for c in GRAPH_CHECKS
                    if all(ck.asset_key in defined for ck in c.check_keys)]
    grouped = []
    for a in assets:
        names = sorted(".".join(k.path) for k in a.keys)
        tables = [table(t) for t in names if t in TABLES]
        views = [VIEWS[v] for v in names if v in VIEWS]
        if tables:
            grouped.append(primary_key_checks(a.node_def.name, tables))
        if views:
            grouped.append(view_rows_checks(a.node_def.name, views))
    return [*grouped, every_definition_has_one_goid, goids_have_scip_symbols, *graph_checks]
