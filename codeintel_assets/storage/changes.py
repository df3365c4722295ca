"""Change sets and update plans: which files of a file-level table must be re-extracted.

Every file-level table keeps a ledger in the warehouse (see `StorageGateway.ledger`): the
fingerprint of each file its rows were extracted from, and the version (extractor and catalog) of
those rows. A step compares the ledger with the fingerprints of the files as they are now:

- added: in the current snapshot, not in the ledger;
- modified: in both, with another fingerprint (content hash, and module name where rows carry it);
- deleted: in the ledger, not in the snapshot (deleted, renamed away, excluded, or no longer
  parsing);
- unchanged: the same fingerprint in both; these files are not read again.

Comparing against each table's own ledger, rather than against the previous scan, keeps a table
correct when runs interleave: a table materialized after two scans sees both scans' changes, and
one written by a subset run is brought up to date by the next run that selects it. (Runs that
write the same table at the same moment are serialized by the `duckdb_writer` pool; a plan
made before another writer changed the ledger is refused at write time, see
`storage.ledger.StalePlanError`, and made again.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# More than this share of files changed makes an incremental update slower than a rebuild:
# deleting most rows and re-inserting them costs more than replacing the table.
DEFAULT_FULL_REBUILD_SHARE = 0.5


@dataclass(frozen=True)
class ChangeSet:
    """Sorted rel_paths per kind of change between two `rel_path -> fingerprint` maps."""

    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @classmethod
    def diff(cls, previous: Mapping[str, str], current: Mapping[str, str]) -> ChangeSet:
        both = previous.keys() & current.keys()
        return cls(
            added=tuple(sorted(current.keys() - previous.keys())),
            modified=tuple(sorted(p for p in both if previous[p] != current[p])),
            deleted=tuple(sorted(previous.keys() - current.keys())),
            unchanged=tuple(sorted(p for p in both if previous[p] == current[p])),
        )

    @property
    def to_extract(self) -> tuple[str, ...]:
        """Files whose rows must be (re)built: added and modified."""
        return tuple(sorted(self.added + self.modified))

    @property
    def to_delete(self) -> tuple[str, ...]:
        """Files whose stored rows must go: added (stale rows of an earlier life), modified,
        deleted."""
        return tuple(sorted(self.added + self.modified + self.deleted))

    def share_changed(self) -> float:
        total = len(self.added) + len(self.modified) + len(self.deleted) + len(self.unchanged)
        return len(self.to_delete) / total if total else 0.0

    def counts(self) -> dict[str, int]:
        """The change counts as `core.repo_map` names them."""
        return {"files_added": len(self.added), "files_changed": len(self.modified),
                "files_deleted": len(self.deleted), "files_unchanged": len(self.unchanged)}


@dataclass(frozen=True)
class UpdatePlan:
    """How one table is brought current: in full, or by replacing the rows of `to_delete`
    with those extracted from `to_extract`."""

    full: bool
    reason: str
    changes: ChangeSet
    current: Mapping[str, str]

    @property
    def to_extract(self) -> tuple[str, ...]:
        return tuple(sorted(self.current)) if self.full else self.changes.to_extract

    @property
    def to_delete(self) -> tuple[str, ...]:
        return () if self.full else self.changes.to_delete

    def summary(self) -> dict:
        return {"mode": "full" if self.full else "incremental", "reason": self.reason,
                **self.changes.counts(), "files_extracted": len(self.to_extract)}


def plan_update(
    stored: tuple[str, Mapping[str, str]] | None,
    current: Mapping[str, str],
    version: str,
    force_full: bool = False,
    full_rebuild_share: float = DEFAULT_FULL_REBUILD_SHARE,
) -> UpdatePlan:
    """Plan the update of one table from its ledger `stored` = (version, fingerprints), or None
    when the table has no ledger (new database, new table, or written without one).

    A full rebuild is planned when asked (`force_full`), without a ledger, when the stored
    version differs from `version` (extractor or catalog changed), or when more than
    `full_rebuild_share` (0..1) of the files changed; otherwise an incremental one.
    """
    changes = ChangeSet.diff(stored[1] if stored else {}, current)
    if force_full:
        return UpdatePlan(True, "full rebuild requested", changes, current)
    if stored is None:
        return UpdatePlan(True, "no ledger (new database or table)", changes, current)
    if stored[0] != version:
        return UpdatePlan(True, f"version changed ({stored[0]} -> {version})", changes, current)
    share = changes.share_changed()
    if share > full_rebuild_share:
        return UpdatePlan(True, f"{share:.0%} of files changed (> {full_rebuild_share:.0%})",
                          changes, current)
    return UpdatePlan(False, "incremental", changes, current)
