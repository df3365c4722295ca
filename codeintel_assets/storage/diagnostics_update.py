"""Incremental updates of the static tools' tables (typing_ingest): which files each of ruff,
pyrefly and pyright checks after a change, and the rows that result. No Dagster.

analytics.diagnostics keeps a ledger (see `StorageGateway.ledger`) of the Python files its rows
describe. Its version holds everything besides those files that changes a tool's output (the
tools' versions, the tools enabled, the target's interpreter and installed distributions, the
tool configuration files of the tree: `CONFIG_FILES`), so a change there rebuilds in full, as
do a missing ledger, Warehouse.full_rebuild and more than Warehouse.full_rebuild_share of the
files changed (`storage.changes.plan_update`). Otherwise, per tool:

- ruff lints the modified files; when files were added or deleted (renames are both), it lints
  everything, since some of its rules read which files exist (I001's first-party detection,
  INP001's `__init__.py`) and a whole lint costs about a second on django;
- pyright and pyrefly check the changed files and their reverse import closure
  (storage/import_closure.py, whose names cover pyrefly's fallback search path, every folder
  above the importing file), or every file when the closure is more than `CLOSURE_FULL_SHARE`
  of them: a type checker's rows of a file depend on the file and what it imports, never on
  the other files it is given (docs/incremental.md has the measurement).

The rows of a tool stay for the files it did not check, are replaced for those it did, and go
for deleted files; per-file counts and typedness are recomputed from the merged rows (on a
commit where no tool checks a file, typing_ingest keeps all of them while their inputs' tokens
hold: defs/static_analysis.py).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from codeintel_assets.storage import import_closure
from codeintel_assets.storage.gateway import FileDelta, StorageGateway
from codeintel_assets.storage.import_closure import change_closure
from codeintel_assets.storage.incremental import (
    PlannedTable,
    RebuildPolicy,
    extractor_version,
    plan_tables,
)
from codeintel_assets.tools import registry

VERSION = 1  # bumped when the rows change for unchanged input
LIBRARIES: tuple[str, ...] = ()  # the tools' versions are qualifiers (`version_qualifiers`)
LEDGER_TABLE = "analytics.diagnostics"
# Past this share (0..1) of the Python files, pyright's closure is checked as a full run: one
# pyright process analyses the shared imports once, so a large closure costs about as much.
CLOSURE_FULL_SHARE = import_closure.CLOSURE_FULL_SHARE  # a module attribute: tests patch it
# Files anywhere in the tree whose content configures ruff, pyright or pyrefly (or, for
# .gitignore, which files ruff lints): a change rebuilds every tool's rows.
CONFIG_FILES = frozenset({"pyproject.toml", "ruff.toml", ".ruff.toml", "pyrightconfig.json",
                          "pyrefly.toml", ".gitignore"})
RUFF, PYREFLY, PYRIGHT = registry.RUFF.name, registry.PYREFLY.name, registry.PYRIGHT.name
_DEFAULT_POLICY = RebuildPolicy()


@dataclass(frozen=True)
class ToolPlan:
    """What one tool checks in this run: every file (`full`) or `files`; `reason` says why."""

    tool: str
    full: bool
    files: tuple[str, ...]
    reason: str

    def rechecks(self, rel_path: str) -> bool:
        """Whether this run replaces the tool's rows of `rel_path`."""
        return self.full or rel_path in self._set

    @property
    def _set(self) -> frozenset[str]:
        return frozenset(self.files)

    def summary(self) -> dict:
        return {"mode": "full" if self.full else "incremental", "files": len(self.files),
                "reason": self.reason}


@dataclass(frozen=True)
class StaticPlan:
    """The ledger plan of analytics.diagnostics and each tool's plan."""

    planned: PlannedTable
    tools: Mapping[str, ToolPlan]

    @property
    def full(self) -> bool:
        return self.planned.plan.full


def version_qualifiers(tool_versions: Mapping[str, str], environment: Sequence[str],
                       configs: Mapping[str, str]) -> tuple[str, ...]:
    """The ledger version's qualifiers: `<tool><version>` per enabled tool, then digests of
    the target's interpreter and distributions (`environment`) and of the tool configuration
    files (`configs`: rel_path -> content hash, of which CONFIG_FILES count)."""
    wanted = {p: h for p, h in configs.items() if PurePosixPath(p).name in CONFIG_FILES}
    return (*(f"{t}{v}" for t, v in sorted(tool_versions.items())),
            f"env.{_digest(list(environment))}", f"config.{_digest(sorted(wanted.items()))}")


def _digest(value) -> str:
    return hashlib.blake2b(json.dumps(value).encode(), digest_size=6).hexdigest()


def plan_static(gateway: StorageGateway, repo: str, fingerprints: Mapping[str, str],
                qualifiers: Sequence[str], imports: Callable[[], Iterable[Mapping]],
                policy: RebuildPolicy = _DEFAULT_POLICY) -> StaticPlan:
    """Plan the three tools against the ledger of analytics.diagnostics (`fingerprints`:
    rel_path -> fingerprint of the Python files now). `imports()` gives core.imports rows
    (rel_path, module, imported, level), read only when the type checkers' closure is
    needed."""
    planned = plan_tables(gateway, repo, [LEDGER_TABLE], fingerprints,
                          extractor_version(sys.modules[__name__], *qualifiers),
                          policy)[LEDGER_TABLE]
    files = tuple(sorted(fingerprints))
    plan = planned.plan
    if plan.full:
        return StaticPlan(planned, {t: ToolPlan(t, True, files, plan.reason)
                                    for t in (RUFF, PYREFLY, PYRIGHT)})
    changes = plan.changes
    if not changes.to_delete:
        none = "no Python file changed"
        return StaticPlan(planned, {t: ToolPlan(t, False, (), none)
                                    for t in (RUFF, PYREFLY, PYRIGHT)})
    moved = changes.added + changes.deleted
    ruff = ToolPlan(RUFF, True, files, f"{len(moved)} files added or deleted: rules read "
                    "which files exist") if moved else \
        ToolPlan(RUFF, False, changes.modified, f"{len(changes.modified)} changed files of "
                 f"{len(files):,}")
    closure = change_closure(changes, fingerprints, imports(), CLOSURE_FULL_SHARE)
    # pyright and pyrefly check the same files: a type checker's rows of a file depend on it
    # and what it imports, transitively, never on which other files are checked with it.
    typed = {t: ToolPlan(t, True, files, closure.full_reason()) if closure.full else
             ToolPlan(t, False, tuple(sorted(closure.files)), f"closure "
                      f"{len(closure.files):,} files of {len(files):,} "
                      f"({len(changes.to_extract)} changed)") for t in (PYREFLY, PYRIGHT)}
    return StaticPlan(planned, {RUFF: ruff, **typed})


def _kept(stored: Iterable[dict], plan: StaticPlan, current: Mapping[str, str]) -> list[dict]:
    """Stored rows (without repo and commit) of the files that still exist and whose tool did
    not check them again."""
    return [{k: v for k, v in r.items() if k not in ("repo", "commit")} for r in stored
            if r["rel_path"] in current and not plan.tools[r["tool"]].rechecks(r["rel_path"])]


def merge(stored: Iterable[dict], new: Iterable[dict], plan: StaticPlan,
          current: Mapping[str, str]) -> list[dict]:
    """The rows after this run (diagnostics with their occurrence, or tool failures): the
    `stored` rows the run leaves standing, then the `new` ones; [] of stored on a full run."""
    return [*([] if plan.full else _kept(stored, plan, current)), *new]


def diagnostics_delta(rows, plan: StaticPlan, current: Mapping[str, str], commit: str,
                      complete: bool) -> FileDelta:
    """analytics.diagnostics written whole (`rows`: Arrow) with the ledger of `current`, or an
    empty ledger when a tool did not complete (timed out): the next run is then a full one.
    When no file changed since the ledger, a delta that keeps the stored rows."""
    planned = plan.planned
    if complete and not plan.full and not planned.plan.changes.to_delete:
        # No file changed, so no tool ran: the stored rows stand and take the new commit
        # (the gateway rewrites only `commit`, not every row).
        return FileDelta(rows.slice(0, 0), (), dict(current), planned.version, commit, False,
                         planned_against=planned.ledger_state)
    return FileDelta(rows, (), dict(current) if complete else {}, planned.version, commit, True,
                     planned_against=planned.ledger_state)
