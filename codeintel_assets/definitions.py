"""The one Definitions object: every asset, check, resource and job of codeintel-assets."""

import dagster as dg

from codeintel_assets.defs.checks import build_checks
from codeintel_assets.defs.ingest import INGEST_ASSETS
from codeintel_assets.defs.io_manager import DuckDBIOManager
from codeintel_assets.defs.jobs import JOBS
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.defs.sensors import SENSORS
from codeintel_assets.defs.tools import TOOL_ASSETS
from codeintel_assets.tools.service import ToolService

ASSETS = [*INGEST_ASSETS, *TOOL_ASSETS]

# configure_at_launch: a launchpad/run-config override of `target` reaches the resources that
# nest it (the warehouse and the IO manager); a fully built instance would keep its defaults.
target = TargetRepo.configure_at_launch()
warehouse = Warehouse.configure_at_launch(target=target)

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=build_checks(ASSETS),
    jobs=JOBS,
    sensors=SENSORS,
    resources={"target": target, "warehouse": warehouse, "tools": ToolService(),
               "io_manager": DuckDBIOManager(warehouse=warehouse)},
    # Steps are short and parse in their own process pool: one process per run avoids
    # paying Dagster's per-step process start-up. See README "Scaling out".
    executor=dg.in_process_executor,
)
