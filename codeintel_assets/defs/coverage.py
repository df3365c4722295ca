"""Coverage steps: coverage_functions (analytics.coverage_functions) and test_coverage_edges
(analytics.test_coverage_edges). Thin wiring: the work is in storage/function_coverage.py.

Both read the tables of the optional test steps (coverage_ingest, tests_ingest), which a run
may leave unwritten (the suite disabled or not allowed to run): then there is no coverage data,
every function is untested with reason no_coverage_data and there are no edges. They never
fail for want of those tables; core.goids they require.
"""

import dagster as dg

from codeintel_assets.defs.common import outputs, skip_check, step, unchanged
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage import function_coverage as fc

COVERAGE_LINES = "analytics.coverage_lines"


@step("coverage_functions", (fc.FUNCTIONS_TABLE,),
      "analytics.coverage_lines attributed in DuckDB to the innermost core.goids definition "
      "owning each line (after its def line)", fc.FUNCTIONS_READS)
def coverage_functions(context: dg.AssetExecutionContext, target: TargetRepo,
                       warehouse: Warehouse):
    check = skip_check(context, warehouse)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require("core.goids")
    got = fc.coverage_functions(warehouse.gateway(), target.info().slug,
                                warehouse.has(COVERAGE_LINES))
    if not got.coverage.has_data:
        context.log.warning(f"coverage_functions: {got.coverage.as_metadata()['skipped']}; "
                            "every function is untested (no_coverage_data)")
    yield from outputs(context, {fc.FUNCTIONS_TABLE: got.functions}, got.as_metadata(),
                       built_from=check)


@step("test_coverage_edges", (fc.EDGES_TABLE,),
      "analytics.coverage_lines contexts (pytest node ids) per function in DuckDB, with "
      "test_goid and status from analytics.test_catalog", fc.EDGES_READS)
def test_coverage_edges(context: dg.AssetExecutionContext, target: TargetRepo,
                        warehouse: Warehouse):
    check = skip_check(context, warehouse)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require("core.goids")
    sql, coverage = fc.test_coverage_edges(warehouse.gateway(), target.info().slug,
                                           warehouse.has(COVERAGE_LINES),
                                           warehouse.has("analytics.test_catalog"))
    if not coverage.has_data:
        context.log.warning(f"test_coverage_edges: {coverage.as_metadata()['skipped']}; "
                            "writing an empty table")
    yield from outputs(context, {fc.EDGES_TABLE: sql}, coverage.as_metadata(), built_from=check)


COVERAGE_ASSETS = [coverage_functions, test_coverage_edges]
