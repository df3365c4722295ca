"""The one Definitions object: every asset, check, resource and job of codeintel-assets."""

import dagster as dg

from codeintel_assets.defs.checks import build_checks
from codeintel_assets.defs.ingest import INGEST_ASSETS
from codeintel_assets.defs.resources import DuckDBIOManager, TargetRepo, Warehouse
from codeintel_assets.defs.sensors import SENSORS, ingest_job
from codeintel_assets.defs.tools import TOOL_ASSETS
from codeintel_assets.tools.service import ToolService

ASSETS = [*INGEST_ASSETS, *TOOL_ASSETS]

# configure_at_launch: a launchpad/run-config override of `target` reaches the resources that
# nest it (the warehouse and the IO manager); a fully built instance would keep its defaults.
target = TargetRepo.configure_at_launch()
warehouse = Warehouse.configure_at_launch(target=target)

codeintel_job = dg.define_asset_job(
    "codeintel_job", selection=dg.AssetSelection.all(),
    description="Materialize every asset (the README's main command runs this selection).",
)

# The same selection with one process per step: for big repositories on machines with more
# cores. Writers stay safe: the gateway's file lock plus the `duckdb_writer` pool.
codeintel_multiprocess_job = dg.define_asset_job(
    "codeintel_multiprocess_job", selection=dg.AssetSelection.all(),
    executor_def=dg.multiprocess_executor,
    description="Every asset, one process per step (see README, Scaling out).",
)

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=build_checks(ASSETS),
    jobs=[codeintel_job, codeintel_multiprocess_job, ingest_job],
    sensors=SENSORS,
    resources={"target": target, "warehouse": warehouse, "tools": ToolService(),
               "io_manager": DuckDBIOManager(warehouse=warehouse)},
    # Steps are short and parse in their own process pool: one process per run avoids
    # paying Dagster's per-step process start-up. See README "Scaling out".
    executor=dg.in_process_executor,
)
