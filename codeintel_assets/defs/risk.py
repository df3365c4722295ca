"""The risk_factors step (analytics.goid_risk_factors). Thin wiring: the formula is
storage/risk.py; its weights and level thresholds are this step's run config, so they can be
set per run in the launchpad (ops: risk_factors: config: ...)."""

from collections import Counter

import dagster as dg
from pydantic import Field

from codeintel_assets.defs.common import outputs, skip_check, step, unchanged
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage import risk
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import conform

_D = risk.RiskWeights


class RiskConfig(dg.Config):
    """Weights of the component risks (non-negative; risk_score divides by the sum of those
    with data) and the thresholds of risk_level. Defaults: storage.risk.RiskWeights."""

    complexity: float = Field(default=_D.complexity, description="cyclomatic/cognitive")
    coverage: float = Field(default=_D.coverage, description="lines no test ran")
    typedness: float = Field(default=_D.typedness, description="missing annotations")
    static_error: float = Field(default=_D.static_error, description="errors on its lines")
    churn: float = Field(default=_D.churn, description="its file's churn in the window")
    hotspot: float = Field(default=_D.hotspot, description="its file's hotspot score")
    failing_test: float = Field(default=_D.failing_test, description="a covering test fails")
    high: float = Field(default=_D.high, description="risk_score from which the level is high")
    medium: float = Field(default=_D.medium, description="... and medium")


@step("risk_factors", (risk.RISK_TABLE,),
      "analytics.function_metrics, function_types, coverage_functions, test_coverage_edges, "
      "hotspots and diagnostics combined in DuckDB (storage/risk.py)", risk.READS)
def risk_factors(context: dg.AssetExecutionContext, config: RiskConfig, target: TargetRepo,
                 warehouse: Warehouse):
    try:
        weights = risk.RiskWeights(**config.model_dump())
    except ValueError as exc:
        raise dg.Failure(f"risk_factors: {exc}") from exc
    check = skip_check(context, warehouse, weights)
    if check.unchanged:
        yield from unchanged(context, check)
        return
    warehouse.require(*risk.READS)
    sql = risk.risk_factors(target.info().slug, weights)
    rows = conform(table(risk.RISK_TABLE), warehouse.gateway().query(sql.query, sql.params))
    levels = Counter(rows.column("risk_level").to_pylist())
    yield from outputs(context, {risk.RISK_TABLE: rows}, {
        "functions": rows.num_rows,
        "levels": dg.MetadataValue.json({k: levels.get(k, 0) for k in ("high", "medium", "low")}),
        "weights": dg.MetadataValue.json(config.model_dump()),
    }, built_from=check)


RISK_ASSETS = [risk_factors]
