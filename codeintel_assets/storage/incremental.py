"""Incremental updates of file-level tables, free of Dagster: change set -> plan -> files to
extract -> one FileDelta per table.

A file-level table's ledger (see `StorageGateway.ledger`) records the fingerprint of every file
its rows come from and the version they were built with. `update_files` compares each table's
ledger with the files as they are now (`storage.changes.plan_update`), extracts the union of
the files the plans need once, and returns a FileDelta per table that carries the ledger state
it was planned against, so the gateway can refuse it when another writer got there first
(`StalePlanError`).

Versions are built here, never at a call site: an extractor module declares `VERSION` (an int
bumped when its rows change for unchanged input) and `LIBRARIES`, the distributions whose
installed version changes its output; the name `python` in LIBRARIES stands for the
interpreter's minor version (`ast` and `tomllib` change with it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.extract.naming import module_names
from codeintel_assets.extract.package_roots import declared_source_roots
from codeintel_assets.extract.parallel import ExtractResult, FileJob
from codeintel_assets.extract.scan import absolute, changed_since_scan
from codeintel_assets.storage import queries
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.changes import (
    DEFAULT_FULL_REBUILD_SHARE,
    UpdatePlan,
    plan_update,
)
from codeintel_assets.storage.gateway import FileDelta, StorageGateway, ledger_digest

# In an extractor's LIBRARIES: the interpreter, not a distribution.
PYTHON = "python"

# extract(paths) -> rows of those files for every table of the step.
ExtractFn = Callable[[Sequence[str]], ExtractResult]


class Log(Protocol):
    """Where progress and warnings go (a Dagster context.log, a logging.Logger)."""

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...


# ---- fingerprints and versions --------------------------------------------------------------


def fingerprint(content_hash: str, module: str | None) -> str:
    """A file's ledger fingerprint: its content hash, and the module name its rows carry."""
    return f"{content_hash}|{module}" if module else content_hash


def fingerprint_hash(value: str) -> str:
    """The content hash part of a `fingerprint`."""
    return value.partition("|")[0]


def extractor_version(extractor: ModuleType, *qualifiers: str) -> str:
    """`<module>.v<VERSION>`, `+<dist><version>` per entry of its LIBRARIES (`+py3.12` for
    `python`), then `+<qualifier>` each (settings that change the rows, an upstream table's
    version). Read at call time, so a bumped VERSION takes effect at once. Raises
    AttributeError when the module declares no VERSION and PackageNotFoundError for a
    library that is not installed."""
    parts = [f"{extractor.__name__.rpartition('.')[2]}.v{extractor.VERSION}"]
    for lib in getattr(extractor, "LIBRARIES", ()):
        parts.append("py{}.{}".format(*sys.version_info[:2]) if lib == PYTHON
                     else f"{lib}{metadata.version(lib)}")
    return "+".join([*parts, *qualifiers])


def table_version(name: str, version: str) -> str:
    """What a table's ledger records: the catalog version of the table and the extractor's
    (`extractor_version`)."""
    return f"{table(name).version()}/{version}"


def ledger_version(name: str, extractor: ModuleType, *qualifiers: str) -> str:
    """`table_version` of table `name` written by `extractor` (see `extractor_version`)."""
    return table_version(name, extractor_version(extractor, *qualifiers))


# ---- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileInputs:
    """The files a file-level step reads: rel_path -> FileJob, and rel_path -> fingerprint."""

    jobs: Mapping[str, FileJob]
    fingerprints: Mapping[str, str]

    @property
    def commit(self) -> str | None:
        """The snapshot's commit, as the rows read carry it (every core.file_state row carries
        the scan's commit); None when no file was read, so the caller must ask the table."""
        return next(iter(self.jobs.values())).commit if self.jobs else None


def file_inputs(gateway: StorageGateway, repo: str, root: str, language: str) -> FileInputs:
    """The files of core.file_state a file-level step reads. `language` is 'python' (files that
    parsed; the fingerprint includes the module name, which their rows carry) or 'config'
    (every other file, whatever its parse status: the jobs carry the scan's status, which
    config extraction honours). Raises MissingTableError before the first scan."""
    python = language == "python"
    state = queries.file_state(gateway, repo, python=python).to_pylist()
    modules = (module_names([r["rel_path"] for r in state], declared_source_roots(root))
               if python else {})
    jobs, fingerprints = {}, {}
    for r in state:
        if python and r["parse_status"] != "ok":
            continue
        path = r["rel_path"]
        module = modules[path].module if path in modules else None
        jobs[path] = FileJob(repo, r["commit"], path, absolute(root, path), module,
                             r["parse_status"] or "ok", r["parse_error"])
        fingerprints[path] = fingerprint(r["content_hash"], module)
    return FileInputs(jobs, fingerprints)


# ---- plans and updates --------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildPolicy:
    """When a table is rebuilt in full: always (`full_rebuild`), or when more than
    `full_rebuild_share` (0..1) of its files changed."""

    full_rebuild: bool = False
    full_rebuild_share: float = DEFAULT_FULL_REBUILD_SHARE


@dataclass(frozen=True)
class PlannedTable:
    """The plan of one table and the ledger state (`ledger_digest`) it was made against."""

    plan: UpdatePlan
    version: str
    ledger_state: str


def plan_tables(gateway: StorageGateway, repo: str, tables: Sequence[str],
                fingerprints: Mapping[str, str], version: str,
                policy: RebuildPolicy = RebuildPolicy(), force_full: bool = False,
                ) -> dict[str, PlannedTable]:
    """A plan per table against its ledger; `version` is the extractor's
    (`extractor_version`)."""
    ledgers = gateway.ledgers([table(t) for t in tables], repo) if tables else {}
    out = {}
    for name in tables:
        versioned = table_version(name, version)
        plan = plan_update(ledgers[name], fingerprints, versioned,
                           force_full or policy.full_rebuild, policy.full_rebuild_share)
        out[name] = PlannedTable(plan, versioned, ledger_digest(ledgers[name]))
    return out


@dataclass(frozen=True)
class TableUpdate:
    """One table's FileDelta, its plan, and how many re-extracted files stay out of its
    ledger (failed, or edited since the scan)."""

    delta: FileDelta
    plan: UpdatePlan
    unrecorded: int

    def summary(self) -> dict:
        """Plan summary (mode, reason, change counts, files_extracted) and files_unrecorded."""
        return {**self.plan.summary(), "files_unrecorded": self.unrecorded}


@dataclass(frozen=True)
class UpdateResult:
    """What `update_files` did: per table its update, and the one extraction it ran."""

    tables: Mapping[str, TableUpdate]
    extracted: ExtractResult

    @property
    def deltas(self) -> dict[str, FileDelta]:
        return {name: u.delta for name, u in self.tables.items()}


def update_files(gateway: StorageGateway, repo: str, tables: Sequence[str],
                 fingerprints: Mapping[str, str], extractor: ModuleType,
                 extract: ExtractFn, commit: str, log: Log, *,
                 qualifiers: Sequence[str] = (), root: str | None = None,
                 policy: RebuildPolicy = RebuildPolicy(), force_full: bool = False,
                 ) -> UpdateResult:
    """Bring the file-level `tables` up to date with the files of `fingerprints` (rel_path ->
    fingerprint): plan each table, run `extract` once on the union of the files the plans
    need, and return a FileDelta per table whose rows all carry `commit` afterwards.

    The version is `extractor_version(extractor, *qualifiers)`. With `root` (the extractor
    reads the work tree there), files whose bytes changed since the scan (an edit during the
    run) keep their new rows but stay out of the ledger, so the next run extracts them again;
    so do files the extractor failed on. Each delta carries the ledger state it was planned
    against: applying it after another writer changed the ledger raises StalePlanError.
    """
    planned = plan_tables(gateway, repo, tables, fingerprints,
                          extractor_version(extractor, *qualifiers), policy, force_full)
    paths = sorted(set().union(*(p.plan.to_extract for p in planned.values())))
    # Nothing to extract (a commit that changed none of the files): no extractor to start. A
    # full plan always extracts (an extractor reading its input whole may have no paths).
    result = extract(paths) if paths or any(p.plan.full for p in planned.values()) \
        else ExtractResult({name: table(name).empty() for name in planned})
    unrecorded = {e.rel_path for e in result.errors}
    if root is not None:
        edited = changed_since_scan(root, {p: fingerprint_hash(fingerprints[p])
                                           for p in paths if p not in unrecorded})
        for path in sorted(edited):
            log.warning(f"{path} changed since repo_scan; extracted as it is now and left for "
                        "the next run")
        unrecorded |= edited
    updates = {}
    for name, p in planned.items():
        rows = result.tables[name]
        if len(p.plan.to_extract) != len(paths):  # another table of the step needed more files
            column = table(name).path_column
            rows = rows.filter(pc.is_in(rows[column], pa.array(p.plan.to_extract, pa.string())))
        # Only files this table re-extracted lose their entry; its other rows stand.
        missing = unrecorded.intersection(p.plan.to_extract)
        ledger = {path: f for path, f in fingerprints.items() if path not in missing}
        delta = FileDelta(rows, p.plan.to_delete, ledger, p.version, commit, p.plan.full,
                          planned_against=p.ledger_state)
        log.info(f"{name}: {p.plan.summary()}")
        updates[name] = TableUpdate(delta, p.plan, len(unrecorded))
    return UpdateResult(updates, result)
