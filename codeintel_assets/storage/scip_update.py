"""Incremental updates of the SCIP index and its tables (scip_ingest): which files the symbol
indexer (ToolService.symbol_indexer: pyrefly's Glean facts, tools/glean_scip.py, or
scip-python; "scip-python" below stands for either) indexes after a change, and how the index
and rows that result are put together. No Dagster.

The SCIP document of a file is what pyright makes of it, and that depends on the files it
imports (the types of names, which symbol a reference resolves to), as a type checker's
diagnostics do. So after a change, scip-python re-indexes the changed files and their reverse
import closure (storage/import_closure.py, the same closure pyright's diagnostics use), served
as the include list of its config (tools/scip_config.py); the warehouse's index (`index.scip`)
keeps every other document and takes the fresh ones for those files, deleted files' documents
dropped (tools/scip_merge.py). core.scip_occurrences is replaced for the same files (a
FileDelta: it carries the ledger); core.scip_symbols, whose rows gather every document's
SymbolInformation and definition occurrences, is decoded whole from the merged index, and
recorded as built from the index file's bytes: a run that indexes nothing (a commit that changed
no Python file) leaves the index as it is and keeps those rows (defs/tools.py), as a derived
step keeps its own (storage/tokens.py).

A full index instead when: core.scip_occurrences has no ledger or another version (the ledger
version holds the indexer's name and version, the target's interpreter and distributions and the
tool configuration files, as the static tools' does), the warehouse's index file is missing
or unreadable, Warehouse.full_rebuild or more than its share of the files changed, or the
closure holds more than CLOSURE_FULL_SHARE of the Python files (one scip-python process
analyses the shared imports once, so a large closure costs nearly a whole index).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from codeintel_assets.storage import import_closure
from codeintel_assets.storage.gateway import FileDelta, StorageGateway
from codeintel_assets.storage.import_closure import change_closure
from codeintel_assets.storage.incremental import (
    PlannedTable,
    RebuildPolicy,
    extractor_version,
    plan_tables,
)

VERSION = 1  # bumped when the rows change for unchanged input
LIBRARIES: tuple[str, ...] = ()  # the indexer's name and version are a qualifier
LEDGER_TABLE = "core.scip_occurrences"
# scip-python's --project-version: the version part of every symbol of the repository's own
# code. SCIP's placeholder for "none", not the commit: the documents kept from earlier runs and
# the fresh ones must name the same symbols (and a symbol stays the same across commits, as a
# GOID does; `commit` is a column of every row).
PROJECT_VERSION = "."
# Past this share (0..1) of the Python files, the closure is indexed as a full run.
CLOSURE_FULL_SHARE = import_closure.CLOSURE_FULL_SHARE  # a module attribute: tests patch it
_DEFAULT_POLICY = RebuildPolicy()


@dataclass(frozen=True)
class ScipPlan:
    """What scip_ingest does in this run.

    planned: the ledger plan of core.scip_occurrences. full: index every file. files: the
    rel_paths scip-python indexes (every Python file on a full run; may be empty). drop: the
    rel_paths whose documents and occurrence rows are replaced or removed (the files indexed
    and the deleted ones; every file on a full run). reason: why, for the metadata.
    """

    planned: PlannedTable
    full: bool
    files: tuple[str, ...]
    drop: tuple[str, ...]
    reason: str

    def summary(self) -> dict:
        """scip_update (full | incremental), reason and files_indexed, for the metadata."""
        return {"scip_update": "full" if self.full else "incremental", "reason": self.reason,
                "files_indexed": len(self.files)}

    def keeps(self, rel_path: str) -> bool:
        """Whether the stored document (and rows) of `rel_path` stand after this run."""
        return not self.full and rel_path not in self._drop

    @functools.cached_property
    def _drop(self) -> frozenset[str]:  # keeps() runs once per decoded occurrence
        return frozenset(self.drop)


def plan_scip(gateway: StorageGateway, repo: str, fingerprints: Mapping[str, str],
              qualifiers: Sequence[str], imports: Callable[[], Iterable[Mapping]] | None,
              have_index: bool, policy: RebuildPolicy = _DEFAULT_POLICY) -> ScipPlan:
    """Plan scip_ingest against the ledger of core.scip_occurrences (`fingerprints`: rel_path
    -> fingerprint of the Python files now; `qualifiers`: diagnostics_update.version_qualifiers
    of scip-python). `imports()` gives core.imports rows (rel_path, module, imported, level),
    read only when a closure is needed (None: the table was never written, a full index);
    `have_index`: the warehouse's index file is there and
    readable."""
    planned = plan_tables(gateway, repo, [LEDGER_TABLE], fingerprints,
                          extractor_version(sys.modules[__name__], *qualifiers),
                          policy)[LEDGER_TABLE]
    files = tuple(sorted(fingerprints))
    plan = planned.plan
    if plan.full or not have_index:
        reason = plan.reason if plan.full else "no readable index of an earlier run"
        return ScipPlan(planned, True, files, files, reason)
    changes = plan.changes
    if not changes.to_delete:
        return ScipPlan(planned, False, (), (), "no Python file changed")
    if imports is None:
        return ScipPlan(planned, True, files, files, "no core.imports to take the closure from")
    closure = change_closure(changes, fingerprints, imports(), CLOSURE_FULL_SHARE)
    if closure.full:
        return ScipPlan(planned, True, files, files, closure.full_reason())
    return ScipPlan(planned, False, tuple(sorted(closure.files)),
                    tuple(sorted(closure.files | set(changes.deleted))),
                    f"closure {len(closure.files):,} files of {len(files):,} "
                    f"({len(changes.to_extract)} changed, {len(changes.deleted)} deleted)")


def occurrences_delta(rows, plan: ScipPlan, current: Mapping[str, str],
                      commit: str) -> FileDelta:
    """core.scip_occurrences' update (`rows`: Arrow rows of the files indexed, or of every file
    on a full run) with the ledger of `current`."""
    planned = plan.planned
    return FileDelta(rows, plan.drop, dict(current), planned.version, commit, plan.full,
                     planned_against=planned.ledger_state)
