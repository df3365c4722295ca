"""Who started a run: automation (a sensor, a schedule, declarative automation, the post-commit
hook) or a person (the CLI, the UI's launchpad, a Python call).

Running a repository's test suite executes its code. A person who starts a run has chosen to;
a push must not do it behind the owner's back, so the tool steps run the suite in an automated
run only when the repository opted in (TargetRepo.tests_on_push; in the fleet shape, the watch
list's `run_tests`). The tags are the ones Dagster sets on the runs its daemons launch (names
as in dagster/_core/storage/tags.py of the pinned dagster 1.13; a test compares them) and our
own `codeintel/trigger` (trigger.py, defs/sensors.py, named in launch.py). No dagster import.
"""

from __future__ import annotations

from collections.abc import Mapping

from codeintel_assets.launch import TRIGGER_TAG

# SENSOR_NAME_TAG and SCHEDULE_NAME_TAG: any run a sensor or schedule requests, including the
# automation-condition sensor's; AUTOMATION_CONDITION_TAG and AUTO_MATERIALIZE_TAG: runs of
# declarative automation (the asset daemon sets both; older daemons only the latter).
DAGSTER_AUTOMATION_TAGS = ("dagster/sensor_name", "dagster/schedule_name",
                           "dagster/from_automation_condition", "dagster/auto_materialize")
# codeintel/trigger values of runs no person started (the git-HEAD sensor, the Git hook).
AUTOMATED_TRIGGERS = frozenset({"sensor", "hook"})


def launched_by_automation(tags: Mapping[str, str]) -> bool:
    """True when the run `tags` say a sensor, a schedule, declarative automation or the Git
    hook started the run; False for a run a person started (no such tag)."""
    return bool(automation_source(tags))


def automation_source(tags: Mapping[str, str]) -> str:
    """What started an automated run, for the log line that says why the suite did not run:
    'sensor <name>', 'schedule <name>', 'declarative automation', 'the Git hook' or
    'codeintel/trigger=sensor'; '' for a run a person started."""
    if DAGSTER_AUTOMATION_TAGS[0] in tags:
        return f"sensor {tags[DAGSTER_AUTOMATION_TAGS[0]]}"
    if DAGSTER_AUTOMATION_TAGS[1] in tags:
        return f"schedule {tags[DAGSTER_AUTOMATION_TAGS[1]]}"
    if any(tag in tags for tag in DAGSTER_AUTOMATION_TAGS[2:]):
        return "declarative automation"
    trigger = tags.get(TRIGGER_TAG)
    if trigger not in AUTOMATED_TRIGGERS:
        return ""
    return "the Git hook" if trigger == "hook" else f"{TRIGGER_TAG}={trigger}"
