"""Resources: the target repository, the warehouse (DuckDB file) and dagster-duckdb's
DuckDBResource over it (for users' own SQL assets). ToolService (tools/service.py) is the
fourth; the IO manager is in io_manager.py."""

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import dagster as dg
import duckdb
import pyarrow as pa
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from codeintel_assets.extract.limits import DEFAULT_MAX_FILE_BYTES
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.scan import DEFAULT_INCLUDES
from codeintel_assets.launch import DB_ENV, PARTITION_TAG, TARGET_ENV, env, target_root
from codeintel_assets.storage import incremental, queries
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.changes import DEFAULT_FULL_REBUILD_SHARE
from codeintel_assets.storage.fleet import Registry, fleet_home, partition_db
from codeintel_assets.storage.gateway import (
    MissingTableError,
    StorageGateway,
    default_read_timeout_s,
)
from codeintel_assets.storage.location import default_db_path
from codeintel_assets.storage.locking import Reporter, default_label
from codeintel_assets.tools.environment import PYTHON_ENV
from codeintel_assets.tools.git import RepoInfo, repo_info
from codeintel_assets.tools.service import Tools


class UpstreamMissingError(RuntimeError):
    """A step's input table was never materialized for the target repository."""


class UndeclaredReadError(RuntimeError):
    """A step read a table that is neither its own nor among its declared deps: the asset
    graph (lineage, staleness, automation, `--select 'x+'`) would not know the step needs it."""


class TargetRepo(dg.ConfigurableResource):
    """The repository to index: a work tree on disk (a Git checkout or a plain folder).

    In the single shape it is `root`. In the fleet shape (`fleet_home` set), each run is one
    partition of `repositories` and the work tree is the registry's entry for the run's
    partition key (storage/fleet.py); `root` is then ignored.
    """

    root: str = Field(
        default_factory=target_root,
        description=f"Path of the repository to index. Default: ${TARGET_ENV}, else the "
        "current working directory.",
    )
    includes: list[str] = Field(
        default=list(DEFAULT_INCLUDES),
        description="gitignore-style patterns of files to scan (Python sources and config files).",
    )
    excludes: list[str] = Field(
        default=[],
        description="gitignore-style patterns of files and folders to skip, on top of the "
        "checkout's ignore rules (git ls-files), or of built-in excludes without Git.",
    )
    max_file_bytes: int = Field(
        default=DEFAULT_MAX_FILE_BYTES,
        description="Files larger than this are recorded as too_large and not parsed.",
    )
    workers: int = Field(
        default=0, description="Parser processes; 0 = one per CPU core ($CODEINTEL_WORKERS)."
    )
    python: str = Field(
        default_factory=lambda: os.environ.get(PYTHON_ENV, ""),
        description="Interpreter of the target's environment: its tests run, and pyright, "
        "pyrefly and scip-python resolve imports, against its installed packages. Default: "
        f"${PYTHON_ENV}, else <target>/.venv, else <target>/venv, else codeintel-assets' own "
        "interpreter (with the target's source roots on PYTHONPATH).",
    )

    fleet_home: str = Field(
        default="", description="Set by the fleet code location: the fleet's home (registry "
        "and per-partition databases). Empty in the single shape.")
    tests_on_push: bool = Field(
        default=False, description="Whether runs started by a sensor, automation or the Git "
        "hook may run this repository's test suite (explicit runs always may). In the fleet "
        "shape it is the watch list's `run_tests` of the partition's repository.")

    _info: RepoInfo | None = PrivateAttr(default=None)
    _partition: str = PrivateAttr(default="")
    _partition_root: str = PrivateAttr(default="")
    _partition_tests: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Fleet shape: resolve the run's partition key to its checkout in the registry.
        Raises FleetError for a partition the registry does not know, ValueError for a
        fleet run without exactly one partition."""
        if not self.fleet_home or context.run is None:
            return
        key = context.run.tags.get(PARTITION_TAG)
        if not key:
            raise ValueError("a run of the fleet code location materializes one partition "
                             "of `repositories` (one repository); none was given")
        checkout = Registry(fleet_home(self.fleet_home)).get(key)
        self._partition, self._partition_root = key, checkout.root
        self._partition_tests = checkout.run_tests

    @property
    def partition(self) -> str:
        """The fleet partition key of this run ('' in the single shape)."""
        return self._partition

    @property
    def abs_root(self) -> str:
        return os.path.abspath(self._partition_root or self.root)

    def may_run_tests_unasked(self) -> bool:
        """Whether automation may run this repository's tests (see `tests_on_push`)."""
        return self._partition_tests if self._partition else self.tests_on_push

    def default_db_file(self) -> str:
        """The partition's DuckDB file in the fleet home, else <root>/.codeintel/codeintel.duckdb.
        Raises ValueError in the fleet shape outside a partition's run (never the cwd's)."""
        if self.fleet_home and not self._partition:
            raise ValueError("the fleet shape's warehouse is a partition's: use it in a run of "
                             "one partition of `repositories`")
        if self._partition:
            return str(partition_db(fleet_home(self.fleet_home), self._partition))
        return str(default_db_path(self.abs_root))

    def info(self) -> RepoInfo:
        """Slug, HEAD commit, branch and dirtiness from Git (through the ToolRunner), cached."""
        if self._info is None:
            if not os.path.isdir(self.abs_root):
                raise FileNotFoundError(f"target repository {self.abs_root!r} is not a directory")
            self._info = repo_info(self.abs_root)
        return self._info


class ToolService(dg.ConfigurableResource, Tools):
    """The `tools` resource: runs pyright, pyrefly, ruff, coverage+pytest, the symbol indexer
    and git for the assets. Its configuration fields and methods are tools/service.Tools'
    (plain Python, so tools/ imports no Dagster); this class only makes them a resource."""


class Warehouse(dg.ConfigurableResource):
    """The DuckDB file every table lives in, reached only through the StorageGateway."""

    target: TargetRepo
    db_path: str = Field(
        default_factory=lambda: env(DB_ENV),
        description=f"DuckDB file. Default: ${DB_ENV}, else <target>/.codeintel/codeintel.duckdb "
        "(fleet shape: the partition's file in the fleet home; this setting is ignored).",
    )
    full_rebuild: bool = Field(
        default=False,
        description="Rebuild every file-level table from all files instead of re-extracting "
        "only the files that changed since each table was last written.",
    )
    full_rebuild_share: float = Field(
        default=DEFAULT_FULL_REBUILD_SHARE,
        description="Rebuild a file-level table in full when more than this share (0..1) of "
        "its files changed.",
    )
    read_timeout_s: float = Field(
        default_factory=default_read_timeout_s,
        description="Seconds a read waits for a running write (or an outside DuckDB process) "
        "to release the database before failing with the holder's name. Default: "
        "$CODEINTEL_READ_TIMEOUT_S, else 60.",
    )

    def db_file(self) -> str:
        """The DuckDB file: `db_path`, else the target's default (TargetRepo.default_db_file);
        in the fleet shape always the partition's own file."""
        if self.target.partition:
            return self.target.default_db_file()
        return self.db_path or self.target.default_db_file()

    def gateway(self, label: str | None = None, report: Reporter | None = None
                ) -> StorageGateway:
        """The gateway, labelled (in the lock's holder record) and reporting lock waits as
        the running Dagster step when there is one."""
        if label is None:
            label, report = _step_identity()
        return StorageGateway(self.db_file(), read_timeout_s=self.read_timeout_s, label=label,
                              report=report)

    def read(self, qualified_name: str, columns: Sequence[str] | None = None, *,
             paths: Sequence[str] | None = None, equal: Mapping[str, object] | None = None,
             one_of: Mapping[str, Sequence[object]] | None = None,
             required: bool = True) -> pa.Table:
        """This repository's rows of a catalog table as Arrow, optionally only of the files of
        `paths`, rows whose columns equal `equal`'s values, or are one of `one_of`'s (values,
        bound as parameters: see `storage.queries.rows`).

        Raises UpstreamMissingError when `required` and the table was never materialized for
        this repository (so a step run alone fails loudly instead of writing empty tables).
        """
        _check_declared(qualified_name)
        try:
            return queries.rows(self.gateway(), table(qualified_name), self.target.info().slug,
                                columns, paths=paths, equal=equal, one_of=one_of,
                                required=required)
        except MissingTableError:
            raise self._missing(qualified_name) from None

    def require(self, *qualified_names: str) -> None:
        """Raises UpstreamMissingError naming the first of the tables that was never
        materialized in this database (all checked over one connection)."""
        found = self._existing(qualified_names)
        for name in qualified_names:
            if name not in found:
                raise self._missing(name)

    def has(self, *qualified_names: str) -> bool:
        """Whether the declared deps were all materialized in this database (optional inputs:
        a step that can do without them)."""
        return len(self._existing(qualified_names)) == len(set(qualified_names))

    def _existing(self, qualified_names: Sequence[str]) -> set[str]:
        for name in qualified_names:
            _check_declared(name)
        return queries.existing_tables(self.gateway(),
                                       [table(n).qualified_name for n in qualified_names])

    def _missing(self, qualified_name: str) -> UpstreamMissingError:
        asset = qualified_name.replace(".", "/")
        return UpstreamMissingError(
            f"{qualified_name} has not been materialized in {self.gateway().db_path}; "
            f"materialize it first (e.g. --select '{asset}'), or select '*'")

    def python_jobs(self) -> list[FileJob]:
        """One FileJob per Python file of core.file_state that parsed, with its module name."""
        return list(self.file_inputs("python").jobs.values())

    def file_inputs(self, language: str) -> incremental.FileInputs:
        """The files of core.file_state a file-level step reads ('python' or 'config'; see
        `storage.incremental.file_inputs`). Raises UpstreamMissingError before the first
        scan."""
        _check_declared("core.file_state")
        try:
            return incremental.file_inputs(self.gateway(), self.target.info().slug,
                                           self.target.abs_root, language)
        except MissingTableError:
            raise self._missing("core.file_state") from None

    def policy(self) -> incremental.RebuildPolicy:
        """When file-level tables are rebuilt in full instead of incrementally."""
        return incremental.RebuildPolicy(self.full_rebuild, self.full_rebuild_share)

    def snapshot_commit(self) -> str:
        """The commit core.file_state describes ('' outside Git). Raises UpstreamMissingError
        before the first scan."""
        commits = self.read("core.file_state", ["commit"]).column(0)
        return commits[0].as_py() if len(commits) else ""


def _check_declared(qualified_name: str) -> None:
    """Inside an asset step, refuse to read a table the step does not declare: deps are
    declared once, in `step(deps=...)`, and every read is held to them (UndeclaredReadError).
    Outside a step (scripts, asset checks, tool threads) reads are not checked."""
    try:
        context = dg.OpExecutionContext.get()
    except dg.DagsterInvariantViolationError:
        return
    if context is None or not context.has_assets_def or not context.assets_def.keys:
        return
    # The whole step, not the subset this run selected: a step may read its own other tables.
    assets_def = context.assets_def
    own = set(assets_def.node_keys_by_output_name.values())
    allowed = own | {d for k in own for d in assets_def.asset_deps.get(k, ())}
    if dg.AssetKey(qualified_name.split(".")) not in allowed:
        raise UndeclaredReadError(
            f"step {context.op.name} reads {qualified_name} but does not declare it: add it "
            f"to the step's deps (declared: {sorted(k.to_user_string() for k in allowed)})")


def _step_identity() -> tuple[str, Reporter | None]:
    """(label, reporter) of the running step: `step NAME of run ID` and its warning log."""
    try:
        context = dg.OpExecutionContext.get()
    except dg.DagsterInvariantViolationError:
        return default_label(), None
    return f"step {context.op.name} of run {context.run_id[:8]}", context.log.warning


class WarehouseDuckDB(DuckDBResource):
    """dagster-duckdb's DuckDBResource (resource key `duckdb`) whose database is the
    warehouse: `get_connection()` is the gateway's connection, so it waits for the gateway's
    file lock (a user's asset never races our writers) and uses the gateway's DuckDB
    configuration (DuckDB refuses two for one file in one process). In the fleet shape it is
    the run's partition's file. `database` is ignored. See README, "Your own SQL assets"."""

    warehouse: Warehouse
    database: str = Field(default="", description="Ignored: the warehouse's DuckDB file.")
    read_only: bool = Field(default=False, description="Open the warehouse read-only.")

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.warehouse.gateway().connect(read_only=self.read_only) as con:
            yield con
