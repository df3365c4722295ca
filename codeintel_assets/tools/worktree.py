"""A cheap fingerprint of everything in a work tree that can change a test run's result.

The scan (core.file_state) covers the Python and configuration files it includes; a test suite
also reads what the scan skips: data files (`tests/data.txt`, fixtures, snapshots), files the
scan's size limit or excludes drop, a conftest.py in a folder the scan ignores. The test-run
cache (ToolService.test_run's workdir) is keyed by this fingerprint, so an edit to any of them
runs the suite again, and an unchanged tree reuses the previous run.

In a Git work tree (root is the top level), through the ToolRunner:

- `git ls-files -s -z`: every tracked path with its staged blob id (the committed and staged
  content, without reading a file);
- `git status --porcelain=v1 -z --untracked-files=all`: the tracked files that differ from the
  index and the untracked files that are not ignored; each adds its size and mtime_ns (an edit
  changes them; hashing their content would read every large untracked file each run).

Ignored files (.gitignore) are left out: they are build outputs and caches, not inputs a
repository expects its tests to need. Outside Git (or when git is missing) the tree is walked
and every file adds its rel_path, size and mtime_ns. Either way the folders of `SKIP_DIRS` and
the extra `exclude` rel_paths (the warehouse folder when it lies inside the tree: its DuckDB file
and test-run folders change with every run) are left out. Reads only: GIT_OPTIONAL_LOCKS=0 (the
ToolRunner's READ_ONLY_ENV) keeps `git status` from taking the index lock. No dagster import.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from codeintel_assets.tools.git import checkout_git
from codeintel_assets.tools.runner import ToolRunner

# Never inputs of the suite, and large or rewritten by every run: Git's own data, our warehouse
# folder, the target's virtual environments and bytecode caches.
SKIP_DIRS = frozenset({".git", ".codeintel", ".venv", "venv", "__pycache__", ".pytest_cache",
                       ".mypy_cache", ".ruff_cache", ".tox", ".nox", "node_modules"})


@dataclass(frozen=True)
class TreeFingerprint:
    """digest: hex blake2b of the tree's state (equal digests: the same content, as far as
    sizes, mtimes and staged blob ids tell); method: 'git' or 'walk'; entries: how many paths
    went in (tracked + changed for git, files for walk); by_path: (rel_path, entry) of each,
    sorted, so a part of the tree can be compared on its own (tools/testimpact.py compares the
    files that are not scanned Python files)."""

    digest: str
    method: str
    entries: int
    by_path: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)


def fingerprint(root: str, runner: ToolRunner, exclude: Sequence[str] = ()) -> TreeFingerprint:
    """The fingerprint of the work tree at `root` (see the module docstring); `exclude` are
    POSIX rel_paths of folders or files to leave out. Never raises for a folder that is not a
    Git checkout; OSError from the walk (an unreadable root) propagates."""
    root = os.path.abspath(root)
    skipped = _Skip(exclude)
    found = _git_entries(root, runner, skipped)
    if found is not None:
        return _digest("git", found)
    return _digest("walk", _walk_entries(root, skipped))


class _Skip:
    """Whether a rel_path lies in SKIP_DIRS (any level) or under one of the excluded paths."""

    def __init__(self, exclude: Iterable[str]) -> None:
        self.prefixes = tuple(p.strip("/") + "/" for p in exclude if p.strip("/"))

    def __call__(self, rel: str) -> bool:
        parts = rel.split("/")
        return any(p in SKIP_DIRS for p in parts[:-1]) or parts[-1] in SKIP_DIRS or \
            (rel + "/").startswith(self.prefixes)


def _digest(method: str, entries: list[tuple[str, str]]) -> TreeFingerprint:
    h = hashlib.blake2b(digest_size=16)
    ordered = sorted(entries, key=lambda e: e[1])
    for _, entry in ordered:
        h.update(entry.encode("utf-8", "surrogateescape") + b"\0")
    return TreeFingerprint(h.hexdigest(), method, len(entries), tuple(sorted(entries)))


def _stat_entry(root: str, rel: str) -> str:
    try:
        st = os.stat(os.path.join(root, rel))
    except OSError:
        return f"{rel}\tmissing"  # a deleted tracked file
    return f"{rel}\t{st.st_size}\t{st.st_mtime_ns}"


def _git_entries(root: str, runner: ToolRunner, skipped: _Skip
                 ) -> list[tuple[str, str]] | None:
    """Entries of a Git work tree whose top level is `root`, else None."""
    git = checkout_git(root, runner)
    if git is None:
        return None  # not a checkout, or a subfolder of another repository's checkout
    # Pathspecs keep git from listing an unignored .venv at all; nested ones are filtered below.
    pathspecs = ["--", ".", *(f":(exclude){p}" for p in sorted(SKIP_DIRS - {".git"})),
                 *(f":(exclude){p.rstrip('/')}" for p in skipped.prefixes)]
    staged = git("ls-files", "-s", "-z", *pathspecs)
    status = git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
                 *pathspecs)
    if staged is None or status is None:
        return None
    entries = []
    for record in staged.split("\0"):
        if record:
            meta, _, rel = record.partition("\t")  # "<mode> <blob> <stage>\t<path>"
            if not skipped(rel):
                entries.append((rel, f"{rel}\t{meta}"))
    for record in status.split("\0"):
        rel = record[3:]  # "XY <path>"; --no-renames: no second path follows
        if rel and not skipped(rel.rstrip("/")):
            entries.append((rel.rstrip("/"), f"~{record[:2]}\t{_stat_entry(root, rel)}"))
    return entries


def _walk_entries(root: str, skipped: _Skip) -> list[tuple[str, str]]:
    entries = []
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = [d for d in dirs if not skipped(prefix + d)]
        entries.extend((prefix + f, _stat_entry(root, prefix + f)) for f in files
                       if not skipped(prefix + f))
    return entries
