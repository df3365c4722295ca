"""repo_scan: which files make up the repository, and their state.

In a Git checkout the files are what Git lists (tracked plus untracked-but-not-ignored: the
checkout's own ignore rules say what is build output), filtered by gitignore-style include
patterns (pathspec); without Git the tree is walked with built-in excludes (`list_tree`).
Symlinks are never followed. Each file is stat'ed, hashed (blake2b-128 of its bytes) and classified: Python files
must decode (PEP 263 cookie, else UTF-8) and parse with `ast`; any file with a NUL byte is
'binary'; a file over `max_file_bytes` is 'too_large' and is hashed but not decoded.

That parse is the file's one `ast.parse` of the snapshot: given the ast tables to build
(`python_tables`), the scan builds their rows from its tree (python_pass.rows_from_tree) and
lists the file in PASS_FILES; only files the scan did not read are parsed again, by
python_pass.extract_python.

What the scan leaves out but would otherwise have scanned is accounted for (SkippedPath):
ignored and excluded paths, symlinks (to files or directories, broken or not), directories it
cannot list, and matching names that are not regular files (a FIFO named `x.py` would block a
reader forever). Module names are extract/naming.py's.
"""

from __future__ import annotations

import ast
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pathspec
import pyarrow as pa

from codeintel_assets.extract.config_values import CONFIG_GLOBS, config_format
from codeintel_assets.extract.limits import DEFAULT_MAX_FILE_BYTES, too_large_message
from codeintel_assets.extract.naming import is_stub
from codeintel_assets.extract.parallel import FileJob, paused_gc
from codeintel_assets.extract.pysource import decode_python
from codeintel_assets.extract.python_pass import rows_from_tree
from codeintel_assets.paths import RootPaths

if TYPE_CHECKING:
    from codeintel_assets.tools.git import WorkTreeFiles

# Bump when the rows this module produces change for unchanged input: stored rows built by
# another version are rebuilt in full (see storage.changes).
VERSION = 2  # 2: is_stub
# Distributions whose installed version changes this module's rows ("python": the
# interpreter); storage.incremental builds the ledger version from VERSION and these.
LIBRARIES = ("python",)  # parse_status comes from ast.parse

PYTHON_GLOBS = ("*.py", "*.pyi")
DEFAULT_INCLUDES: tuple[str, ...] = PYTHON_GLOBS + tuple(CONFIG_GLOBS)
# Always left out: version-control data and this project's own folders in the target.
OWN_EXCLUDES: tuple[str, ...] = (".git/", ".codeintel/", ".dagster/", ".tmp_dagster_home_*/")
# Without Git there are no ignore rules to follow: build output (a top-level build/ or dist/
# only: a package may have a `build` subpackage), virtualenvs and caches by name.
NO_GIT_EXCLUDES: tuple[str, ...] = (
    ".hg/", ".svn/", ".venv/", "venv/", "node_modules/", "/build/", "/dist/",
    "__pycache__/", ".tox/", ".nox/", "site-packages/", ".eggs/", "*.egg-info/", ".mypy_cache/",
    ".pytest_cache/", ".ruff_cache/", "package-lock.json",
)
DEFAULT_EXCLUDES: tuple[str, ...] = OWN_EXCLUDES + NO_GIT_EXCLUDES


def language_of(rel_path: str) -> str | None:
    if rel_path.endswith((".py", ".pyi")):
        return "python"
    return config_format(rel_path)


@dataclass(frozen=True)
class SkippedPath:
    """A path the scan left out. kind: 'symlink' (never followed), 'unreadable' (a
    directory that cannot be listed, a file that cannot be read, or not a regular file),
    'ignored' (the checkout's ignore rules), 'excluded' (an exclude pattern), 'virtualenv'
    (under a pyvenv.cfg Git does not ignore) or 'deleted' (tracked, gone from the work tree);
    reason: what happened, e.g. 'symlink to a directory (not followed)', 'PermissionError:
    [Errno 13] Permission denied', 'not a regular file (FIFO)'. A directory ends with '/'."""

    rel_path: str
    kind: str
    reason: str


@dataclass(frozen=True)
class TreeListing:
    """What `walk_tree` found: `paths`, the sorted rel_paths to scan, and `skipped`, the
    symlinks and unreadable paths that would otherwise have been scanned, sorted by path."""

    paths: list[str]
    skipped: list[SkippedPath] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for s in self.skipped if s.kind == kind)


def list_files(root: str | os.PathLike, includes: Sequence[str] = DEFAULT_INCLUDES,
               excludes: Sequence[str] = DEFAULT_EXCLUDES) -> list[str]:
    """Sorted POSIX rel_paths under `root` matching `includes` and not `excludes`."""
    return walk_tree(root, includes, excludes).paths


def walk_tree(root: str | os.PathLike, includes: Sequence[str] = DEFAULT_INCLUDES,
              excludes: Sequence[str] = DEFAULT_EXCLUDES) -> TreeListing:
    """The files under `root` matching `includes` and not `excludes`, and what was skipped.

    Symlinks are never followed: a symlinked directory that is not excluded, and a symlink
    whose name matches, are listed as skipped ('symlink'). A directory os.walk cannot list
    (permissions, removed during the walk) and a matching name that is not a regular file
    are skipped as 'unreadable'. Raises nothing for the tree's content.
    """
    include = pathspec.GitIgnoreSpec.from_lines(includes)
    exclude = pathspec.GitIgnoreSpec.from_lines(excludes)
    # Absolute, so the walk's paths are spelled under the root RootPaths relativises against
    # (a relative path would be read as relative to the root, not to the cwd).
    root = os.path.abspath(os.fspath(root))
    paths = RootPaths(root)
    found: list[str] = []
    skipped: list[SkippedPath] = []

    def rel_of(path: str) -> str:
        return paths.rel(path) or ""  # the root itself: ''

    def unlistable(exc: OSError) -> None:
        skipped.append(SkippedPath((rel_of(exc.filename or root) or ".") + "/", "unreadable",
                                   f"{type(exc).__name__}: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable):
        rel_dir = rel_of(dirpath)
        rel_dir = rel_dir + "/" if rel_dir else ""
        kept = []
        for d in sorted(dirnames):
            if exclude.match_file(f"{rel_dir}{d}/"):
                skipped.append(SkippedPath(f"{rel_dir}{d}/", "excluded", EXCLUDED))
                continue
            if os.path.islink(os.path.join(dirpath, d)):
                skipped.append(SkippedPath(f"{rel_dir}{d}/", "symlink",
                                           "symlink to a directory (not followed)"))
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in filenames:
            rel = rel_dir + name
            # language_of first: a suffix test that rejects most files before pathspec's regexes.
            if not (language_of(rel) and include.match_file(rel)):
                continue
            if exclude.match_file(rel):
                skipped.append(SkippedPath(rel, "excluded", EXCLUDED))
                continue
            reason = _not_regular(os.path.join(dirpath, name))
            if reason is None:
                found.append(rel)
            else:
                skipped.append(SkippedPath(rel, *reason))
    return TreeListing(sorted(found), sorted(skipped, key=lambda s: s.rel_path))


EXCLUDED = "matches an exclude pattern"


def list_tree(root: str | os.PathLike, git: WorkTreeFiles | None,
              includes: Sequence[str] = DEFAULT_INCLUDES,
              extra_excludes: Sequence[str] = ()) -> TreeListing:
    """The files to scan: with Git (`git`, from tools.git.work_tree_files) the tracked and
    untracked-but-not-ignored files matching `includes`, minus OWN_EXCLUDES, `extra_excludes`
    and virtualenvs Git does not ignore (a directory holding a listed `pyvenv.cfg`); without
    Git (None) `walk_tree` with DEFAULT_EXCLUDES plus `extra_excludes`. Either way `skipped`
    says what was left out and why (SkippedPath kinds). Raises nothing for the tree's content."""
    if git is None:
        return walk_tree(root, includes, (*DEFAULT_EXCLUDES, *extra_excludes))
    root = os.path.abspath(os.fspath(root))
    include = pathspec.GitIgnoreSpec.from_lines(includes)
    exclude = pathspec.GitIgnoreSpec.from_lines((*OWN_EXCLUDES, *extra_excludes))
    venvs = tuple(p[: -len("pyvenv.cfg")] for p in git.listed
                  if p == "pyvenv.cfg" or p.endswith("/pyvenv.cfg"))
    found: list[str] = []
    skipped = [SkippedPath(p, "ignored", "ignored by the checkout's ignore rules (.gitignore)")
               for p in git.ignored
               if p.endswith("/") or (language_of(p) and include.match_file(p))]
    for rel in git.listed:
        if not (language_of(rel) and include.match_file(rel)):
            # Git lists a directory symlink as one path: the walk would have reported it.
            path = os.path.join(root, rel)
            if os.path.islink(path) and os.path.isdir(path):
                skipped.append(SkippedPath(rel + "/", "symlink",
                                           "symlink to a directory (not followed)"))
            continue
        if exclude.match_file(rel):
            skipped.append(SkippedPath(rel, "excluded", EXCLUDED))
        elif venvs and rel.startswith(venvs):
            skipped.append(SkippedPath(rel, "virtualenv", "inside a virtualenv (pyvenv.cfg)"))
        elif not os.path.lexists(os.path.join(root, rel)):
            skipped.append(SkippedPath(rel, "deleted", "tracked, deleted from the work tree"))
        elif (reason := _not_regular(os.path.join(root, rel))) is not None:
            skipped.append(SkippedPath(rel, *reason))
        else:
            found.append(rel)
    return TreeListing(sorted(found), sorted(skipped, key=lambda s: s.rel_path))


_SPECIAL = ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
            (stat.S_ISBLK, "block device"))


def _not_regular(path: str) -> tuple[str, str] | None:
    """(kind, reason) when `path` is not a regular file to scan, else None."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}"
    if stat.S_ISLNK(st.st_mode):
        target = "broken symlink" if not os.path.exists(path) else "symlink"
        return "symlink", f"{target} (not followed)"
    for test, what in _SPECIAL:
        if test(st.st_mode):
            return "unreadable", f"not a regular file ({what})"
    return None


# Not a table: the rel_paths whose ast-table rows the scan built (`scan_file`), handed to
# run_extractor with PASS_FILES_SCHEMA next to the tables.
PASS_FILES = "repo_scan.python_pass_files"
PASS_FILES_SCHEMA = pa.schema([("rel_path", pa.string())])


def scan_file(job: FileJob, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
              python_tables: Sequence[str] = ()) -> dict[str, list[dict]]:
    """One core.file_state row: stat, content hash and parse status of `job`'s file.

    With `python_tables` (names from python_pass.TABLES) a Python file that parsed also gets
    those tables' rows, built from the scan's tree for `job.module`, and a PASS_FILES row. If
    building them fails, the file has neither: the scan's row stands, and the ast pass of the
    files the scan did not cover records the failure."""
    language = language_of(job.rel_path)
    # Non-blocking, and checked after opening: a file replaced by a FIFO since the walk must
    # fail here rather than block the worker forever.
    with open(os.open(job.abs_path, os.O_RDONLY | os.O_NONBLOCK), "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"not a regular file: {job.rel_path}")
        data = fh.read()
    row = {"repo": job.repo, "commit": job.commit, "rel_path": job.rel_path,
           "language": language, "size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns,
           "content_hash": content_hash(data),
           "parse_status": "ok", "parse_error": None, "is_stub": is_stub(job.rel_path)}
    with paused_gc():
        status, error, source, tree = _verdict(data, language, max_file_bytes)
        row["parse_status"], row["parse_error"] = status, error
        out = {"core.file_state": [row]}
        if python_tables and tree is not None:
            try:
                out.update(rows_from_tree(job, source, tree, python_tables))
            except Exception:  # noqa: BLE001 - left to the ast pass, which records it
                return out
            out[PASS_FILES] = [{"rel_path": job.rel_path}]
        return out


def content_hash(data: bytes) -> str:
    """core.file_state.content_hash: blake2b-128 hex digest of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def changed_since_scan(root: str | os.PathLike, hashes: dict[str, str]) -> set[str]:
    """The rel_paths of `hashes` (rel_path -> content hash from the scan) whose bytes on disk
    hash differently now, or cannot be read: edited between the scan and an extraction."""
    changed = set()
    for rel_path, expected in hashes.items():
        try:
            with open(os.path.join(root, rel_path), "rb") as fh:
                if content_hash(fh.read()) != expected:
                    changed.add(rel_path)
        except OSError:
            changed.add(rel_path)
    return changed


def classify(data: bytes, language: str | None, max_file_bytes: int) -> tuple[str, str | None]:
    """(parse_status, parse_error) of a file's bytes (module docstring)."""
    return _verdict(data, language, max_file_bytes)[:2]


def _verdict(data: bytes, language: str | None, max_file_bytes: int,
             ) -> tuple[str, str | None, str | None, ast.Module | None]:
    """`classify`'s verdict, with the decoded text and, for Python that parsed, the tree."""
    if len(data) > max_file_bytes:
        return "too_large", too_large_message(len(data), max_file_bytes), None, None
    if b"\x00" in data:
        return "binary", "file contains NUL bytes", None, None
    try:
        text = decode_python(data) if language == "python" else data.decode("utf-8")
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        expected = "Python source (PEP 263 coding cookie, else UTF-8)" if language == "python" \
            else "UTF-8 text"
        return "decode_error", f"not decodable as {expected}: {exc}", None, None
    tree = None
    if language == "python":
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            where = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) and exc.lineno else ""
            return ("syntax_error", f"{type(exc).__name__}: "
                    f"{exc.msg if isinstance(exc, SyntaxError) else exc}{where}", text, None)
    return "ok", None, text, tree


# A file whose mtime falls this close to the previous scan may have changed again within the
# file system's timestamp granularity (1-2 s on some) after it was stat'ed: hash it again.
RACY_WINDOW_NS = 2_000_000_000


def split_unchanged(root: str | os.PathLike, paths: Sequence[str],
                    previous: Sequence[dict], previous_scan_ns: int | None,
                    ) -> tuple[list[dict], list[str]]:
    """Split `paths` into previous core.file_state rows that still hold and paths to scan.

    A previous row holds when size and mtime (os.stat) equal the recorded ones and the mtime is
    not within RACY_WINDOW_NS of `previous_scan_ns` (the previous scan's start, ns since the
    epoch; None disables reuse). Those files are neither read nor parsed again. Returns
    (reused rows, paths to scan); a path that cannot be stat'ed is scanned (and fails there).
    """
    if previous_scan_ns is None:
        return [], list(paths)
    by_path = {r["rel_path"]: r for r in previous}
    reused, to_scan = [], []
    for path in paths:
        row = by_path.get(path)
        try:
            st = os.stat(os.path.join(root, path))
        except OSError:
            to_scan.append(path)
            continue
        if (row is not None and row["size_bytes"] == st.st_size
                and row["mtime_ns"] == st.st_mtime_ns
                and st.st_mtime_ns < previous_scan_ns - RACY_WINDOW_NS):
            reused.append(row)
        else:
            to_scan.append(path)
    return reused, to_scan


def scanner(max_file_bytes: int, python_tables: Sequence[str] = ()):
    """The picklable per-file extractor of the scan (`scan_file`)."""
    return partial(scan_file, max_file_bytes=max_file_bytes,
                   python_tables=tuple(python_tables))


def absolute(root: str | Path, rel_path: str) -> str:
    return str(Path(root) / rel_path)
