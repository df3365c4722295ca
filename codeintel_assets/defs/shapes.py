"""One factory, two shapes of the same asset graph.

- `single()`: unpartitioned, one target repository (the `target` resource: $CODEINTEL_TARGET
  or the working directory). `codeintel_assets.definitions`, the README's commands and
  `dagster asset materialize --select 'core/ast_nodes+'` use it.
- `fleet()`: every asset partitioned by the `repositories` dynamic partitions, one partition
  per checkout, each in its own DuckDB file (storage/fleet.py). `codeintel_assets.fleet`, in
  its own workspace (fleet/workspace.yaml): Dagster allows one materializable definition per
  asset key in a workspace, so the two locations are never loaded together.

Environment variables are read here, when Dagster loads the definitions, not at import.
"""

from dataclasses import dataclass

import dagster as dg

from codeintel_assets import launch
from codeintel_assets.defs.callgraph import CALLGRAPH_ASSETS, CALLGRAPH_CHECKS
from codeintel_assets.defs.checks import build_checks
from codeintel_assets.defs.coverage import COVERAGE_ASSETS
from codeintel_assets.defs.graphs import GRAPH_ASSETS
from codeintel_assets.defs.history import HISTORY_ASSETS
from codeintel_assets.defs.ingest import INGEST_ASSETS
from codeintel_assets.defs.io_manager import DuckDBIOManager
from codeintel_assets.defs.jobs import build_jobs
from codeintel_assets.defs.resources import (
    TargetRepo,
    ToolService,
    Warehouse,
    WarehouseDuckDB,
)
from codeintel_assets.defs.risk import RISK_ASSETS
from codeintel_assets.defs.sensors import automation_sensor, fleet_sensor, single_sensor
from codeintel_assets.defs.static_analysis import STATIC_ASSETS
from codeintel_assets.defs.testsuite import TEST_ASSETS
from codeintel_assets.defs.tools import TOOL_ASSETS
from codeintel_assets.defs.views import VIEW_ASSETS

ASSETS = [*INGEST_ASSETS, *STATIC_ASSETS, *TEST_ASSETS, *TOOL_ASSETS, *CALLGRAPH_ASSETS, *GRAPH_ASSETS, *COVERAGE_ASSETS,
          *HISTORY_ASSETS, *RISK_ASSETS,
          *VIEW_ASSETS]
REPOSITORIES = dg.DynamicPartitionsDefinition(name="repositories")


@dataclass(frozen=True)
class Shape:
    """`name` is launch.SINGLE or launch.FLEET; `home` is the fleet's home (fleet only)."""

    name: str
    home: str = ""

    @property
    def partitions_def(self) -> dg.DynamicPartitionsDefinition | None:
        return REPOSITORIES if self.name == launch.FLEET else None


def single() -> Shape:
    return Shape(launch.SINGLE)


def fleet() -> Shape:
    return Shape(launch.FLEET, launch.configured_fleet_home())


def shaped(assets: list[dg.AssetsDefinition], shape: Shape) -> list[dg.AssetsDefinition]:
    """`assets`, partitioned by `repositories` in the fleet shape."""
    if shape.partitions_def is None:
        return list(assets)
    return [a.map_asset_specs(lambda s: s.replace_attributes(partitions_def=shape.partitions_def))
            for a in assets]


def build_definitions(shape: Shape, extra_assets: list[dg.AssetsDefinition] = ()
                      ) -> dg.Definitions:
    """Every asset, check, resource, job and sensor of codeintel-assets in `shape`, plus
    `extra_assets` (a user's own SQL assets, partitioned alike in the fleet shape)."""
    assets = shaped([*ASSETS, *extra_assets], shape)
    # configure_at_launch: a launchpad/run-config override of `target` reaches the resources
    # that nest it (the warehouse, the IO manager, the SQL resource).
    target = TargetRepo.configure_at_launch(**({"fleet_home": shape.home} if shape.home else {}))
    warehouse = Warehouse.configure_at_launch(target=target)
    if shape.name == launch.FLEET:
        tags = {launch.SHAPE_TAG: launch.FLEET}
        sensors = [fleet_sensor(REPOSITORIES, shape.home)]
    else:
        tags = {launch.SHAPE_TAG: launch.SINGLE,
                launch.TARGET_ROOT_TAG: TargetRepo().abs_root}
        sensors = [single_sensor()]
    return dg.Definitions(
        assets=assets,
        asset_checks=[*build_checks(assets), *CALLGRAPH_CHECKS],
        jobs=build_jobs(tags),
        sensors=[*sensors, automation_sensor()],
        resources={"target": target, "warehouse": warehouse, "tools": ToolService(),
                   "io_manager": DuckDBIOManager(warehouse=warehouse),
                   "duckdb": WarehouseDuckDB(warehouse=warehouse)},
        # Steps are short and parse in their own process pool: one process per run avoids
        # paying Dagster's per-step process start-up. See docs/design.md, "Executors".
        executor=dg.in_process_executor,
    )
