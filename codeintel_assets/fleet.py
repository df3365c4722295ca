"""The fleet code location: the same asset graph, partitioned by the `repositories` dynamic
partitions (one partition per checkout of the watch list). Load it in its own workspace and
instance, from the project root (fleet/workspace.yaml, fleet/repositories.yaml and the
instance config fleet/.dagster/dagster.yaml):

    DAGSTER_HOME=$PWD/fleet/.dagster .venv/bin/dagster dev -w fleet/workspace.yaml

Never in one workspace with `codeintel_assets.definitions` (one materializable definition per
asset key). See defs/shapes.py and storage/fleet.py.
"""

import sys

import dagster as dg

from codeintel_assets.defs.shapes import build_definitions, fleet

NO_PARTITION = ("codeintel_fleet: every asset of the fleet is partitioned by repository: pass "
                "--partition KEY (`.venv/bin/codeintel-assets partitions` lists the keys)")


def refuse_unpartitioned_cli_run(argv: list[str]) -> None:
    """Exit with NO_PARTITION when `argv` is `dagster asset materialize` without --partition
    or --partition-range. Dagster's CLI loads these definitions in its own process before it
    checks the option, then fails with a 41-line traceback that names no key; this says in one
    line what to pass and where the keys are. SystemExit(message): status 1."""
    if argv[1:3] != ["asset", "materialize"]:
        return
    if not any(a.split("=", 1)[0] in ("--partition", "--partition-range") for a in argv[3:]):
        raise SystemExit(NO_PARTITION)


@dg.definitions
def defs() -> dg.Definitions:
    refuse_unpartitioned_cli_run(sys.argv)
    return build_definitions(fleet())
