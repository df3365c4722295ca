"""The default code location: the single shape (one target repository, unpartitioned).

`dagster dev`, `dagster asset materialize -m codeintel_assets.definitions --select ...` and
`codeintel-assets materialize` load it. The fleet of many repositories is the other code
location, `codeintel_assets.fleet` (see defs/shapes.py).
"""

import dagster as dg

from codeintel_assets.defs.shapes import build_definitions, single


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(single())
