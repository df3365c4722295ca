"""What launches a run needs to agree on, without importing Dagster: job names, run tags,
the poll interval, the names of the environment variables that choose what a launch targets
(repository, database, sensors, watch list, fleet home, Dagster's URL) and the run-config
builder. Variables that tune one component live with it, e.g. CODEINTEL_READ_TIMEOUT_S in
storage/gateway.py, CODEINTEL_TARGET_PYTHON and CODEINTEL_CACHE_DIR in tools/environment.py,
CODEINTEL_WORKERS in extract/parallel.py.

The sensors and jobs (Dagster), the Git hook (`trigger.py`, which must start fast) and
`run.py` all import this module, so none of them imports another for a constant. Nothing here
reads the environment at import: `env()` reads a variable when it is called (definitions read
theirs when Dagster loads them).
"""

from __future__ import annotations

import os

# ---- jobs ------------------------------------------------------------------------------------
CODEINTEL_JOB = "codeintel_job"
MULTIPROCESS_JOB = "codeintel_multiprocess_job"
INGEST_JOB = "codeintel_ingest_job"

# ---- run tags ------------------------------------------------------------------------------
# Which repository and commit a sensor- or hook-launched run ingests, and who launched it
# (`sensor` or `hook`); the git-HEAD sensor skips commits the hook already launched.
REPO_TAG, COMMIT_TAG, TRIGGER_TAG = "codeintel/repo", "codeintel/commit", "codeintel/trigger"
# Job tags: the shape of the code location (`single` or `fleet`) and, for the single shape,
# the target root, so the hook can tell whether a location serves its repository.
SHAPE_TAG, TARGET_ROOT_TAG = "codeintel/shape", "codeintel/target_root"
SINGLE, FLEET = "single", "fleet"
# Dagster's own tag naming the partition of a run (dagster._core.storage.tags).
PARTITION_TAG = "dagster/partition"

# Seconds between two evaluations of each sensor (the git-HEAD and fleet sensors' polls of
# HEAD, the automation sensor's ticks): $CODEINTEL_POLL_S when the definitions load.
POLL_INTERVAL_S = 30

# ---- environment variables of a launch -------------------------------------------------------
TARGET_ENV = "CODEINTEL_TARGET"          # the single shape's repository (default: cwd)
DB_ENV = "CODEINTEL_DB"                  # the single shape's DuckDB file
SENSORS_ENV = "CODEINTEL_SENSORS"        # off: ship the sensors stopped
WATCH_ENV = "CODEINTEL_WATCH_REPOS"      # the fleet's extra roots (os.pathsep-separated)
WATCH_FILE_ENV = "CODEINTEL_WATCH_FILE"  # the fleet's watch list (repositories.yaml)
FLEET_HOME_ENV = "CODEINTEL_FLEET_HOME"  # the fleet's registry, databases and test runs
URL_ENV = "CODEINTEL_DAGSTER_URL"        # where the hook finds Dagster's webserver
POLL_ENV = "CODEINTEL_POLL_S"            # seconds between sensor evaluations (default 30)
DEFAULT_URL = "http://127.0.0.1:3000"


def env(name: str, default: str = "") -> str:
    """The environment variable `name` (stripped), else `default`; read now, not at import."""
    return os.environ.get(name, "").strip() or default


class TargetError(ValueError):
    """The repository to index does not exist, is not a directory or cannot be listed."""


def target_root(target: str | None = None) -> str:
    """The absolute root of the repository to index: `target`, else $CODEINTEL_TARGET, else
    the current directory."""
    return os.path.abspath(target or env(TARGET_ENV) or os.getcwd())


def checked_target(target: str | None = None) -> str:
    """`target_root(target)`, checked before a run creates anything (its warehouse folder,
    logs, Dagster instance). Raises TargetError when it does not exist, is not a directory
    or cannot be listed."""
    root = target_root(target)
    try:
        with os.scandir(root):
            pass
    except FileNotFoundError:
        raise TargetError(f"target {root} does not exist") from None
    except NotADirectoryError:
        raise TargetError(f"target {root} is not a directory") from None
    except OSError as exc:
        raise TargetError(f"target {root} cannot be read: {exc.strerror}") from None
    return root


def configured_fleet_home() -> str:
    """The fleet's home: $CODEINTEL_FLEET_HOME, else storage.fleet's default, absolute."""
    # Imported here, not at the top: the Git hook imports this module and must start fast,
    # and storage.fleet owns the default so it is stated once.
    from codeintel_assets.storage.fleet import fleet_home

    return str(fleet_home(env(FLEET_HOME_ENV)))


def sensors_default_on() -> bool:
    """Whether sensors ship running: yes unless $CODEINTEL_SENSORS is off/0/false/no."""
    return env(SENSORS_ENV).lower() not in ("off", "0", "false", "no")


def poll_interval_s() -> int:
    """$CODEINTEL_POLL_S (whole seconds, at least 1), else POLL_INTERVAL_S. Raises ValueError
    naming the variable for anything else."""
    raw = env(POLL_ENV)
    if not raw:
        return POLL_INTERVAL_S
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"${POLL_ENV} must be a whole number of seconds >= 1, not {raw!r}")
    return int(raw)


def dagster_url() -> str:
    return env(URL_ENV, DEFAULT_URL)


def run_config(target: str | None = None, db: str | None = None,
               tools: list[str] | None = None, tool_config: dict | None = None,
               full_rebuild: bool = False, full_rebuild_share: float | None = None,
               target_python: str | None = None) -> dict:
    """Run config overriding the target root, the target's interpreter (`target_python`), the
    DuckDB file, the enabled tools and other ToolService fields (`tool_config`, e.g.
    {"pytest_args": ["-x"]}), and the warehouse's rebuild policy (`full_rebuild`,
    `full_rebuild_share`). Unset arguments keep the resources' defaults; {} when all are."""
    resources: dict = {}
    target_config = {**({"root": target} if target else {}),
                     **({"python": target_python} if target_python else {})}
    if target_config:
        resources["target"] = {"config": target_config}
    warehouse: dict = {"db_path": db} if db else {}
    if full_rebuild:
        warehouse["full_rebuild"] = True
    if full_rebuild_share is not None:
        warehouse["full_rebuild_share"] = full_rebuild_share
    if warehouse:
        resources["warehouse"] = {"config": warehouse}
    tools_config = dict(tool_config or {})
    if tools is not None:
        tools_config["enabled"] = list(tools)
    if tools_config:
        resources["tools"] = {"config": tools_config}
    return {"resources": resources} if resources else {}
