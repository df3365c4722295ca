"""The fleet code location: the same asset graph, partitioned by the `repositories` dynamic
partitions (one partition per checkout of the watch list). Load it in its own workspace and
instance, from the fleet/ folder (its workspace.yaml, dagster.yaml and repositories.yaml):

    cd fleet && ../.venv/bin/dagster dev

Never in one workspace with `codeintel_assets.definitions` (one materializable definition per
asset key). See defs/shapes.py and storage/fleet.py.
"""

import dagster as dg

from codeintel_assets.defs.shapes import build_definitions, fleet


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(fleet())
