"""Resources: the target repository, the warehouse (DuckDB file) and its IO manager."""


import os
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa
from pydantic import Field, PrivateAttr

from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.scan import (
    DEFAULT_EXCLUDES,
    DEFAULT_INCLUDES,
    DEFAULT_MAX_FILE_BYTES,
    absolute,
    module_names,
)
from codeintel_assets.launch import DB_ENV, PARTITION_TAG, TARGET_ENV, env
from codeintel_assets.storage.catalog import TableSpec, table
from codeintel_assets.storage.changes import DEFAULT_FULL_REBUILD_SHARE
from codeintel_assets.storage.gateway import (
    FileDelta,
    MissingTableError,
    Sql,
    StorageGateway,
    default_db_path,
    default_read_timeout_s,
)
from codeintel_assets.storage.fleet import Registry, fleet_home, partition_db
from codeintel_assets.storage.locking import Reporter, default_label
from codeintel_assets.tools.environment import PYTHON_ENV
from codeintel_assets.tools.git import RepoInfo, repo_info



class UpstreamMissingError(RuntimeError):
    """A step's input table was never materialized for the target repository."""


def _default_root() -> str:
    return os.path.abspath(env(TARGET_ENV) or os.getcwd())


class TargetRepo(dg.ConfigurableResource):
    """The repository to index: a work tree on disk (a Git checkout or a plain folder).

    In the single shape it is `root`. In the fleet shape (`fleet_home` set), each run is one
    partition of `repositories` and the work tree is the registry's entry for the run's
    partition key (storage/fleet.py); `root` is then ignored.
    """

    root: str = Field(
        default_factory=_default_root,
        description=f"Path of the repository to index. Default: ${TARGET_ENV}, else the "
        "current working directory.",
    )
    includes: list[str] = Field(
        default=list(DEFAULT_INCLUDES),
        description="gitignore-style patterns of files to scan (Python sources and config files).",
    )
    excludes: list[str] = Field(
        default=list(DEFAULT_EXCLUDES),
        description="gitignore-style patterns of files and folders to skip.",
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
        """The partition's DuckDB file in the fleet home, else <root>/.codeintel/codeintel.duckdb."""
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

    def read(self, qualified_name: str, columns: list[str] | None = None, where: str = "",
             params: tuple = (), required: bool = True) -> pa.Table:
        """This repository's rows of a catalog table as Arrow.

        Raises UpstreamMissingError when `required` and the table was never materialized for
        this repository (so a step run alone fails loudly instead of writing empty tables).
        """
        gateway, repo = self.gateway(), self.target.info().slug
        try:
            return gateway.read_table(table(qualified_name), repo, columns, where, params,
                                      required=required)
        except MissingTableError:
            raise self._missing(qualified_name) from None

    def require(self, qualified_name: str) -> None:
        if not self.gateway().table_exists(table(qualified_name)):
            raise self._missing(qualified_name)

    def _missing(self, qualified_name: str) -> UpstreamMissingError:
        asset = qualified_name.replace(".", "/")
        return UpstreamMissingError(
            f"{qualified_name} has not been materialized in {self.gateway().db_path}; "
            f"materialize it first (e.g. --select '{asset}'), or select '*'")

    def python_jobs(self) -> list[FileJob]:
        """One FileJob per Python file of core.file_state that parsed, with its module name."""
        return list(self.file_inputs("python")[0].values())

    def file_inputs(self, language: str) -> tuple[dict[str, FileJob], dict[str, str]]:
        """The files of core.file_state a file-level step reads: rel_path -> FileJob, and
        rel_path -> fingerprint (the content hash, plus the module name for Python files,
        whose rows carry it). `language` is 'python' (files that parsed) or 'config' (every
        non-Python file; their extractor records parse errors as rows)."""
        where = "language = 'python'" if language == "python" else "language <> 'python'"
        state = self.read("core.file_state",
                          ["rel_path", "commit", "parse_status", "content_hash"],
                          where=where).to_pylist()
        modules = module_names([r["rel_path"] for r in state]) if language == "python" else {}
        repo, root = self.target.info().slug, self.target.abs_root
        jobs, fingerprints = {}, {}
        for r in state:
            if language == "python" and r["parse_status"] != "ok":
                continue
            path, module = r["rel_path"], modules.get(r["rel_path"], (None,))[0]
            jobs[path] = FileJob(repo, r["commit"], path, absolute(root, path), module)
            fingerprints[path] = fingerprint(r["content_hash"], module)
        return jobs, fingerprints

    def snapshot_commit(self) -> str:
        """The commit core.file_state describes ('' outside Git). Raises UpstreamMissingError
        before the first scan."""
        commits = self.read("core.file_state", ["commit"]).column(0)
        return commits[0].as_py() if len(commits) else ""


def _step_identity() -> tuple[str, Reporter | None]:
    """(label, reporter) of the running step: `step NAME of run ID` and its warning log."""
    try:
        context = dg.OpExecutionContext.get()
    except dg.DagsterInvariantViolationError:
        return default_label(), None
    return f"step {context.op.name} of run {context.run_id[:8]}", context.log.warning


def fingerprint(content_hash: str, module: str | None) -> str:
    """A file's ledger fingerprint: its content hash, and the module name its rows carry."""
    return f"{content_hash}|{module}" if module else content_hash


def fingerprint_hash(value: str) -> str:
    """The content hash part of a `fingerprint`."""
    return value.partition("|")[0]


@dataclass(frozen=True)
class TableHandle:
    """What a downstream asset receives for a warehouse table: a name it can query lazily."""

    warehouse: Warehouse
    spec: TableSpec

    def arrow(self, columns: list[str] | None = None, where: str = "", params: tuple = ()):
        return self.warehouse.read(self.spec.qualified_name, columns, where, params)


class DuckDBIOManager(dg.ConfigurableIOManager):
    """Stores each `[schema, table]` asset as DuckDB table `schema.table` via the gateway.

    Outputs may be a pyarrow Table (loaded zero-copy) or a `Sql` SELECT run inside DuckDB, each
    replacing the target repository's rows in one transaction, or a `FileDelta`, which replaces
    only the rows of changed files (see StorageGateway.apply_delta). Other repositories' rows
    stay. Inputs load as a `TableHandle`.
    """

    warehouse: Warehouse

    def handle_output(self, context: dg.OutputContext, obj: pa.Table | Sql | FileDelta) -> None:
        spec = table(".".join(context.asset_key.path))
        gateway = self.warehouse.gateway(f"step {context.step_key} of run {context.run_id[:8]}",
                                         context.log.warning)
        repo = self.warehouse.target.info().slug
        if isinstance(obj, FileDelta):
            result = gateway.apply_delta(spec, repo, obj)
        else:
            result = gateway.replace_repo_rows(spec, repo, obj)
        context.add_output_metadata({
            "dagster/row_count": result.row_count,
            "dagster/table_name": f"{gateway.db_path}:{spec.qualified_name}",
            "dagster/column_schema": column_schema(spec),
            "migrated": result.migrated,
            "preview": dg.MetadataValue.md(_preview(spec, result.preview)),
        })

    def load_input(self, context: dg.InputContext) -> TableHandle:
        return TableHandle(self.warehouse, table(".".join(context.asset_key.path)))


def column_schema(spec: TableSpec) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.duckdb_type, description=c.description or None,
                       constraints=dg.TableColumnConstraints(nullable=c.name not in spec.primary_key))
        for c in spec.columns
    ])


def _preview(spec: TableSpec, rows: list[dict]) -> str:
    """A markdown table of the first rows written (first 8 columns after repo and commit)."""
    if not rows:
        return "_empty table_"
    cols = [c for c in spec.column_names if c not in ("repo", "commit")][:8]
    cell = lambda v: str(v).replace("|", "\\|").replace("\n", " ")[:60]  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
