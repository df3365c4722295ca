"""The values that cross the StorageGateway's boundary: what a write takes (`Sql`, `FileDelta`,
`Derived`), what it returns (`WriteResult`, `Unchanged`) and the errors of reads and writes.
Split from gateway.py, which re-exports them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

# Named parameters ($name) of a statement: one style everywhere, bound by name, never counted.
Params = Mapping[str, object]


class StaleTableError(RuntimeError):
    """A stored table lacks columns the catalog (and the reader) expects."""


class MissingTableError(LookupError):
    """A required table does not exist in the database."""


class WriteError(RuntimeError):
    """The database refused a write (no space left, file size limit, permissions, I/O); the
    message names the file, the table and DuckDB's cause, which is also `__cause__`. The
    transaction was rolled back: the table keeps its previous rows."""


@dataclass(frozen=True)
class Sql:
    """A SELECT the gateway runs inside the database as `INSERT INTO t BY NAME <query>`, with
    its named parameters (`$repo` in `query`, {"repo": ...} in `params`)."""

    query: str
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class FileDelta:
    """An update of one repository's rows of a file-level table (each row names its file in
    `rel_path` or `config_path`).

    rows: catalog rows of the re-extracted files. to_delete: rel_paths whose stored rows are
    deleted first (added, modified and deleted files); ignored when `full`, which replaces all of
    the repository's rows. ledger: rel_path -> fingerprint of every file the table covers after
    the write (failed files left out, so they are retried). version: extractor and catalog
    version of the rows. commit: the snapshot sha all of the repository's rows carry afterwards.
    planned_against: the `ledger_digest` of the ledger the delta was planned from; the write
    raises StalePlanError when the stored ledger differs (None: not checked). derived_from:
    qualified table name -> `ledger_digest` of other tables the rows were computed from (the
    string literals config references are matched against); checked the same way.
    """

    rows: pa.Table
    to_delete: tuple[str, ...]
    ledger: dict[str, str]
    version: str
    commit: str
    full: bool
    planned_against: str | None = None
    derived_from: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    table: str
    row_count: int
    migrated: bool
    # The first PREVIEW_ROWS rows of the repository, for output metadata.
    preview: list[dict] = field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True)
class Derived:
    """A derived table's rows (`data`: Arrow or `Sql`, replacing the repository's rows, or a
    FileDelta replacing those of some files: graph.call_graph_edges) with the `input_digest`
    of the inputs they were built from (`storage.tokens.input_digest`; None: not known, so the
    table is never skipped next time)."""

    data: pa.Table | Sql | FileDelta
    built_from: str | None


@dataclass(frozen=True)
class Unchanged:
    """A table whose inputs did not change since it was built: the gateway kept its rows and
    set their `commit`, nothing is left to write. Two ways in: a derived table
    (StorageGateway.skip_unchanged), where input_digest is the digest of its input tables'
    tokens; a file-level table with no file to extract (StorageGateway.apply_deltas), where it
    is the ledger digest its file rows were planned against. commit: the commit they carry
    now; row_count: the repository's rows."""

    input_digest: str
    commit: str
    row_count: int


@dataclass(frozen=True)
class SkipCheck:
    """StorageGateway.skip_unchanged's answer for one step: `input_digest` of its inputs now
    (None when an input has no token, so nothing can be skipped and the rebuild records
    None), and `unchanged`: qualified name -> Unchanged for each output that was skipped (all
    of them or none)."""

    input_digest: str | None
    unchanged: Mapping[str, Unchanged] = field(default_factory=dict)
