"""Vendored code: which scanned files are copies of other projects' code kept in the tree.

A repository that vendors a dependency (setuptools' `setuptools/_vendor/`, pip's
`src/pip/_vendor/`) holds code its authors neither wrote nor maintain: its complexity, risk and
diagnostics are not the project's, and on setuptools 75.6.0 41% of the functions (2,134 of
5,233) and 6 of the ten most complex files are vendored. So vendored files are tagged
(core.file_state.is_vendored and vendored_reason), kept in every table, and left out of the
summary's rankings by default.

The rule: a file is vendored when it lies in (or is) a vendored root, and a root is

- a folder named `_vendor`, `vendor`, `vendored` or `third_party`, at any depth;
- a folder (other than the repository root) holding a `vendor.txt`, the pip convention for the
  list of vendored distributions; and a folder or module named in a `vendor.txt` beside it
  (`packaging==24.2` names `packaging/` and `packaging.py`);
- a folder (other than the root) whose own ruff or pyright configuration (ruff.toml,
  .ruff.toml, pyproject.toml's [tool.ruff] / [tool.pyright], pyrightconfig.json) excludes every
  scanned Python file under it (setuptools' `_vendor/ruff.toml`: `exclude = ["*"]`): its
  maintainers declared it not theirs to lint. A nested config excluding only some files (test
  data) is not a sign;
- installed-package metadata below the root: a `<name>-<version>.dist-info` folder (what `pip
  install --target` leaves) makes itself and the packages it installed (its top_level.txt,
  else its normalised name) vendored. `.egg-info` is not a sign: setuptools writes one for the
  project's own package beside `src/<pkg>`.

A file's reason is its outermost root's. Reading the target's configuration here is input (a
config that cannot be read is no sign), never authority over what is scanned.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

import pathspec

VENDOR_FOLDERS = frozenset({"_vendor", "vendor", "vendored", "third_party"})
VENDOR_LIST = "vendor.txt"
_RUFF_FILES = ("ruff.toml", ".ruff.toml")
_PYRIGHT_FILE = "pyrightconfig.json"
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_DIST_INFO = re.compile(r"(.+?)-[^-]+\.dist-info")


def vendored_files(root: str | os.PathLike, rel_paths: Iterable[str]) -> dict[str, str]:
    """rel_path -> vendored_reason for those of `rel_paths` (POSIX, relative to `root`) that are
    vendored under the module's rule, e.g. 'folder named _vendor: setuptools/_vendor/'.
    Files of the tree not in `rel_paths` (vendor.txt, *.dist-info) are read from disk; an
    unreadable one is no sign. Raises nothing for the tree's content."""
    paths = sorted(set(rel_paths))
    roots = _roots(os.fspath(root), paths)
    found = {}
    for rel in paths:
        parts = rel.split("/")
        # Outermost first: the shortest prefix that is a root gives the reason.
        for n in range(1, len(parts) + 1):
            prefix = "/".join(parts[:n])
            if prefix in roots:
                found[rel] = f"{roots[prefix]}: {prefix}{'/' if n < len(parts) else ''}"
                break
    return found


def _roots(root: str, paths: Sequence[str]) -> dict[str, str]:
    """Vendored roots (rel_path of a folder or file) -> why."""
    folders = sorted({str(p) for rel in paths for p in PurePosixPath(rel).parents} - {"."})
    roots: dict[str, str] = {}
    for folder in folders:
        if PurePosixPath(folder).name in VENDOR_FOLDERS:
            roots[folder] = f"folder named {PurePosixPath(folder).name}"
    for folder in ["", *folders]:
        here = os.path.join(root, folder)
        if os.path.isfile(os.path.join(here, VENDOR_LIST)):
            if folder:
                roots.setdefault(folder, f"{VENDOR_LIST} in the folder")
            for name in _listed_names(os.path.join(here, VENDOR_LIST)):
                for child in _children_named(here, name):
                    roots.setdefault(_join(folder, child), f"named in {_join(folder, VENDOR_LIST)}")
        if folder:
            for entry, names in _dist_infos(here):
                roots.setdefault(_join(folder, entry), "installed-package metadata")
                for name in names:
                    for child in _children_named(here, name):
                        roots.setdefault(_join(folder, child), f"installed package ({entry})")
    for config in paths:
        folder = str(PurePosixPath(config).parent)
        if folder != "." and _excludes_whole_folder(root, config, folder, paths):
            roots.setdefault(folder, f"{PurePosixPath(config).name} excludes its folder")
    return roots


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _listed_names(vendor_txt: str) -> list[str]:
    """Distribution names of a requirements-style vendor.txt (comments and options skipped)."""
    try:
        with open(vendor_txt, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    return [m.group(1) for line in lines
            if (m := _REQUIREMENT.match(line.split("#", 1)[0]))]


def _children_named(folder: str, name: str) -> list[str]:
    """Entries of `folder` that import as `name` (a package folder or a module), compared
    as distribution names are (case, '-', '_' and '.' alike)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    want = _norm(name)
    return sorted(e for e in entries
                  if (_norm(e) == want and os.path.isdir(os.path.join(folder, e)))
                  or (e.endswith((".py", ".pyi")) and _norm(e.rsplit(".", 1)[0]) == want))


def _dist_infos(folder: str) -> list[tuple[str, list[str]]]:
    """(entry, import names) of each *.dist-info folder in `folder`: its top_level.txt, else
    the distribution's name."""
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _DIST_INFO.fullmatch(entry)
        if not match or not os.path.isdir(os.path.join(folder, entry)):
            continue
        try:
            with open(os.path.join(folder, entry, "top_level.txt"), encoding="utf-8") as fh:
                names = [n.strip() for n in fh if n.strip()]
        except (OSError, UnicodeDecodeError):
            names = [match.group(1)]
        found.append((entry, names))
    return found


def _excludes_whole_folder(root: str, config: str, folder: str, paths: Sequence[str]) -> bool:
    """Whether `config` (a rel_path) is a ruff or pyright configuration whose exclude patterns
    match every scanned Python file under its `folder`."""
    patterns = _exclude_patterns(os.path.join(root, config), PurePosixPath(config).name)
    if not patterns:
        return False
    inside = [p[len(folder) + 1:] for p in paths
              if p.startswith(folder + "/") and p.endswith((".py", ".pyi"))]
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    return bool(inside) and all(spec.match_file(p) for p in inside)


def _exclude_patterns(path: str, name: str) -> list[str]:
    """The exclude patterns of a ruff or pyright configuration file ([] for another file, or
    one that cannot be read)."""
    if name not in (*_RUFF_FILES, "pyproject.toml", _PYRIGHT_FILE):
        return []
    try:
        with open(path, "rb") as fh:
            data = json.load(fh) if name == _PYRIGHT_FILE else tomllib.load(fh)
    except (OSError, ValueError):  # unreadable, not TOML, or JSON with comments: no sign
        return []
    if not isinstance(data, dict):
        return []
    if name == "pyproject.toml":
        tool = _table(data, "tool")
        sections = [_table(tool, "ruff"), _table(_table(tool, "ruff"), "lint"),
                    _table(tool, "pyright")]
    elif name == _PYRIGHT_FILE:
        sections = [data]
    else:
        sections = [data, _table(data, "lint")]
    return [p for s in sections
            for key in ("exclude", "extend-exclude") if isinstance(s.get(key), list)
            for p in s[key] if isinstance(p, str)]


def _table(data: dict, key: str) -> dict:
    """`data[key]` when it is a table, else {} (a configuration of another shape is no sign)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}
