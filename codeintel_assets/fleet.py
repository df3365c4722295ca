"""The fleet code location: the same asset graph, partitioned by the `repositories` dynamic
partitions (one partition per checkout of the watch list). Load it in its own workspace:

    dagster dev -w fleet/workspace.yaml

Never in one workspace with `codeintel_assets.definitions` (one materializable definition per
asset key). See defs/shapes.py and storage/fleet.py.
"""

import dagster as dg

from codeintel_assets.defs.shapes import build_definitions, fleet


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(fleet())
