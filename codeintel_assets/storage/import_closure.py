"""The files whose type-checker diagnostics a change can alter: the changed files and their
reverse import closure. Pure; no Dagster, no database.

A type checker reports in file X what X's imports make true, so an edit of one file can add or
remove errors in every file that imports it, directly or through others. The closure is taken
on import *statements* (core.imports, the rows graph.import_graph_edges is built from), matched
to files by path, not through the module graph, because:

- `import a.b.c` makes the checker read a/__init__.py and a/b/__init__.py too, while the graph
  keeps only the longest module prefix (a.b.c);
- after a delete the graph's edge moves to an ancestor (or becomes external): the importers of
  the deleted module are no longer in it, yet their diagnostics change (an unresolved import);
- pyright resolves an absolute import from the root, from `src/`, and, failing those, from the
  importing file's folder, pyrefly from every folder above the file too; a relative one from
  the file's folder, whatever its module name.

So a file is named by its path from the root, dotted (`src/pkg/b.py` -> `src.pkg.b`,
`pkg/__init__.py` -> `pkg`), and an import statement by every path it may resolve to: each
dotted prefix of its target (`a`, `a.b`, `a.b.c` for `import a.b.c`) under each search root
(the root, `src`, every source root of the repository's module names, the file's folder and
every folder above it); a relative one by its target under the folder it climbs to (and that
folder, whose `__init__.py` `from . import x` reads). X depends on F when a name of X's statements is F's name. A folder
that starts or stops holding Python files (a namespace package appears or vanishes) is named
the same way and counts as changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from codeintel_assets.storage.changes import ChangeSet

_SUFFIXES = (".py", ".pyi")
_INIT = "__init__"
# pyright's own search roots besides the configured ones: the root and `src/`.
DEFAULT_ROOTS = ("", "src")


def path_name(rel_path: str) -> str:
    """A Python file's path from the root, dotted (`a/b/__init__.py` -> `a.b`), or a folder's
    when `rel_path` names no Python file ('' for the root)."""
    path = PurePosixPath(rel_path)
    parts = list(path.with_suffix("").parts if path.suffix in _SUFFIXES else path.parts)
    if parts and parts[-1] == _INIT:
        parts.pop()
    return ".".join(p for p in parts if p != ".")


def _join(*names: str) -> str:
    return ".".join(n for n in names if n)


def _prefixes(dotted: str) -> list[str]:
    parts = [p for p in dotted.split(".") if p]
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def source_root(rel_path: str, module: str | None) -> str | None:
    """The folder (dotted) a file's module name is relative to (`src/pkg/a.py`, `pkg.a` ->
    `src`), None when the name is not its path's tail (a disambiguated name)."""
    path = path_name(rel_path)
    if not module or not (path == module or path.endswith("." + module)):
        return None
    return path[:len(path) - len(module)].rstrip(".")


@dataclass(frozen=True)
class StatementNames:
    """What one import statement may read: `rooted`, dotted prefixes of its target that each
    search root resolves (`a`, `a.b` for `import a.b`), and `located`, dotted paths from the
    repository root (the target under the importing file's folder and each folder above it
    or, for a relative import, under the folder it climbs to)."""

    rooted: tuple[str, ...]
    located: tuple[str, ...]


def statement_names(rel_path: str, module: str | None, imported: str,
                    level: int) -> StatementNames:
    """The names of one core.imports row of `rel_path` (see the module doc). `imported` is
    absolute as extract/pysource.py resolved it against `module`, or starts with dots when
    the import climbed above the top-level package; `level` counts the dots."""
    folder = path_name(str(PurePosixPath(rel_path).parent))
    if level == 0:
        rooted = tuple(_prefixes(imported))
        # pyright falls back to the file's folder, pyrefly to every folder above it as well
        return StatementNames(rooted, tuple(_join(a, p) for a in _prefixes(folder)[::-1]
                                            for p in rooted))
    parts = folder.split(".") if folder else []
    base = ".".join(parts[:max(0, len(parts) - (level - 1))])
    if imported.startswith("."):
        tail = imported.lstrip(".")
    else:
        is_package = PurePosixPath(rel_path).stem == _INIT
        package = (module or "") if is_package else (module or "").rpartition(".")[0]
        depth = len(package.split(".")) if package else 0
        tail = ".".join(imported.split(".")[max(0, depth - (level - 1)):])
    return StatementNames((), (base, *(_join(base, p) for p in _prefixes(tail))))


def _index(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for name, rel_path in pairs:
        out.setdefault(name, set()).add(rel_path)
    return {k: frozenset(v) for k, v in out.items()}


@dataclass(frozen=True)
class ImportIndex:
    """Who imports what: `rooted` (a target prefix -> rel_paths) resolved under each of
    `roots`, and `located` (a dotted path from the root -> rel_paths)."""

    rooted: Mapping[str, frozenset[str]]
    located: Mapping[str, frozenset[str]]
    roots: tuple[str, ...] = DEFAULT_ROOTS

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping]) -> ImportIndex:
        """From core.imports rows with rel_path, module, imported and level; the search roots
        are DEFAULT_ROOTS and the source roots of the rows' module names."""
        rows = list(rows)
        roots = set(DEFAULT_ROOTS) | {r for r in (source_root(x["rel_path"], x["module"])
                                                  for x in rows) if r is not None}
        names = [(r["rel_path"], statement_names(r["rel_path"], r["module"],
                                                 r["imported"] or "", r["level"] or 0))
                 for r in rows]
        return cls(_index((n, path) for path, s in names for n in s.rooted),
                   _index((n, path) for path, s in names for n in s.located),
                   tuple(sorted(roots)))

    def importers(self, name: str) -> set[str]:
        """The rel_paths with a statement that may read the file or folder `name` (dotted
        path from the root, see `path_name`)."""
        found = set(self.located.get(name, ()))
        for root in self.roots:
            if not root:
                found |= self.rooted.get(name, frozenset())
            elif name.startswith(root + "."):
                found |= self.rooted.get(name[len(root) + 1:], frozenset())
        return found

    def reverse_closure(self, seeds: Iterable[str]) -> set[str]:
        """The rel_paths that import a name of `seeds` (see `path_name`), directly or through
        other files of the result; transitive."""
        found: set[str] = set()
        frontier = set(seeds)
        seen: set[str] = set()
        while frontier:
            seen |= frontier
            reached = {x for n in frontier for x in self.importers(n)} - found
            found |= reached
            frontier = {path_name(x) for x in reached} - seen
        return found


def changed_folders(previous: Iterable[str], current: Iterable[str],
                    paths: Iterable[str]) -> list[str]:
    """The folders of `paths` (added or deleted files) that hold Python files in only one of
    `previous` and `current` (rel_path sets): namespace packages that appeared or vanished."""
    def folders(files: Iterable[str]) -> set[str]:
        return {str(p) for f in files for p in PurePosixPath(f).parents if str(p) != "."}
    before, after = folders(previous), folders(current)
    return sorted((before ^ after) & folders(paths))


def affected_files(index: ImportIndex, changed: Iterable[str], previous: Iterable[str],
                   current: Iterable[str], added_or_deleted: Iterable[str]) -> set[str]:
    """The files of `current` a type checker must re-check after `changed` (added, modified
    and deleted rel_paths) went from `previous` to `current`: the changed files that exist
    and every file importing one of them, or a folder that appeared or vanished, transitively."""
    current = set(current)
    changed = set(changed)
    seeds = {path_name(f) for f in changed}
    seeds |= {path_name(d) for d in changed_folders(previous, current, added_or_deleted)}
    return (changed | index.reverse_closure(seeds)) & current


# Past this share of the Python files, analysing the closure again costs about what a whole run
# does (a type checker or indexer analyses what the closure imports anyway): callers run in full.
CLOSURE_FULL_SHARE = 0.3


@dataclass(frozen=True)
class Closure:
    """The reverse import closure of a change: `files` (rel_paths to analyse again, existing
    ones), their `share` of the Python files now, and the `bound` past which a caller analyses
    every file instead."""

    files: frozenset[str]
    share: float
    bound: float

    @property
    def full(self) -> bool:
        return self.share > self.bound

    def full_reason(self) -> str:
        return f"full: closure {self.share:.0%} > {self.bound:.0%}"


def change_closure(changes: ChangeSet, fingerprints: Mapping[str, str],
                   imports: Iterable[Mapping], bound: float = CLOSURE_FULL_SHARE) -> Closure:
    """`affected_files` of a ChangeSet against the ledger (`fingerprints`: rel_path ->
    fingerprint of the Python files now; `imports`: core.imports rows)."""
    moved = changes.added + changes.deleted
    previous = set(fingerprints) - set(changes.added) | set(changes.deleted)
    files = affected_files(ImportIndex.from_rows(imports), changes.to_delete, previous,
                           fingerprints, moved)
    return Closure(frozenset(files), len(files) / len(fingerprints) if fingerprints else 0.0,
                   bound)
