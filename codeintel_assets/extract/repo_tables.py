"""repo_scan's derived tables, built from the scanned paths: core.modules,
analytics.tags_index and core.repo_map (with the change counts against the previous scan)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.naming import module_names
from codeintel_assets.extract.package_roots import declared_source_roots
from codeintel_assets.extract.pysource import module_is_package
from codeintel_assets.extract.tags import TagRule, owners_of
from codeintel_assets.storage.catalog import table

if TYPE_CHECKING:
    from codeintel_assets.tools.git import RepoInfo


def tags_index(info: RepoInfo, rules: Sequence[TagRule], paths: Sequence[str]
               ) -> tuple[pa.Table, dict[str, list[str]]]:
    """analytics.tags_index, and rel_path -> sorted tag names for core.modules."""
    matches = {rule.tag: rule.matches(list(paths)) for rule in rules}
    tags_of: dict[str, list[str]] = defaultdict(list)
    for tag, matched in matches.items():
        for path in matched:
            tags_of[path].append(tag)
    rows = [{"repo": info.slug, "commit": info.commit, "tag": r.tag,
             "description": r.description, "includes": json_text(list(r.includes)),
             "excludes": json_text(list(r.excludes)), "matches": json_text(matches[r.tag])}
            for r in rules]
    return table("analytics.tags_index").from_rows(rows), {p: sorted(t) for p, t in tags_of.items()}


def modules(info: RepoInfo, python_paths: Sequence[str], tags_of: Mapping[str, list[str]],
            codeowners: list) -> pa.Table:
    """core.modules: one row per Python file, named by `naming.module_names` with the source
    roots the checkout's pyproject.toml declares (a file whose plain name another file has
    keeps a disambiguated name: nothing is dropped)."""
    names = module_names(python_paths, declared_source_roots(info.root))
    return table("core.modules").from_rows(sorted((
        {"repo": info.slug, "commit": info.commit, "module": name.module, "rel_path": path,
         "language": "python", "is_package": module_is_package(path),
         "source_root": name.source_root, "name_status": name.status,
         "tags": json_text(tags_of.get(path, [])),
         "owners": json_text(owners_of(codeowners, path))}
        for path, name in names.items()), key=lambda r: r["module"]))


def repo_map(info: RepoInfo, file_count: int, module_count: int,
             changes: Mapping[str, int], generated_at: dt.datetime,
             symlinks_skipped: int = 0, unreadable_paths: int = 0) -> pa.Table:
    """The core.repo_map row; `generated_at` is when the scan started (naive UTC), which the
    next scan uses to tell files that may have changed unseen (see scan.split_unchanged).
    The skipped counts are those of `scan.walk_tree` (plus files the scan could not read)."""
    return table("core.repo_map").from_rows([{
        "repo": info.slug, "commit": info.commit, "branch": info.branch, "dirty": info.dirty,
        "commit_ts": info.commit_ts, "repo_root": info.root, "module_count": module_count,
        "file_count": file_count, **changes,
        "symlinks_skipped": symlinks_skipped, "unreadable_paths": unreadable_paths,
        "generated_at": generated_at,
    }])
