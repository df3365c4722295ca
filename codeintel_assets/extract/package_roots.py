"""Source roots the target's packaging metadata declares (its top-level `pyproject.toml`).

Module names come from paths (extract/naming.py), which cannot tell a directory put on
sys.path from a PEP 420 namespace package: under `code/`, `mypkg/engine.py` without an
`__init__.py` in `mypkg` would be named `engine`. The build backend's configuration says
where the import names start, so its directories are source roots:

- setuptools: `[tool.setuptools] package-dir` (`{"" = "lib"}` -> `lib`;
  `{"mypkg" = "code/mypkg"}` -> `code`) and `[tool.setuptools.packages.find] where`;
- hatch: `[tool.hatch.build(.targets.wheel)] packages` (`["code/mypkg"]` -> `code`) and
  `sources` (`["code"]`, or `{"code" = ""}` -> `code`);
- poetry: `[tool.poetry] packages = [{include = "mypkg", from = "code"}]` -> `code`;
- pdm: `[tool.pdm.build] package-dir = "code"`.

A mapping that renames a package (`{"mypkg" = "code/impl"}`) declares no root: no directory
holds the import name, and naming files by another name than their path's is not done. The
repository root itself ('' or '.'), paths outside the checkout and an unreadable or invalid
pyproject.toml declare nothing (the path rules then apply alone). flit declares no directory
(it looks in the root and `src/`, which the path rules already cover). No dagster import here.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Iterator
from pathlib import Path


def declared_source_roots(root: str | Path) -> tuple[str, ...]:
    """Sorted, distinct root-relative posix directories that `root/pyproject.toml` declares as
    where import names start (the rules in the module docstring); () when it declares none,
    is missing or is not valid TOML."""
    try:
        with open(Path(root) / "pyproject.toml", "rb") as fh:
            tool = tomllib.load(fh).get("tool")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return ()
    if not isinstance(tool, dict):
        return ()
    found = {_clean(d) for d in _declared(tool)}
    return tuple(sorted(d for d in found if d))


def _declared(tool: dict) -> Iterator[str]:
    setuptools = _table(tool, "setuptools")
    for name, directory in _table(setuptools, "package-dir").items():
        yield from _root_of(name, directory)
    find = _table(_table(setuptools, "packages"), "find")
    yield from _strings(find.get("where"))
    hatch = _table(tool, "hatch", "build")
    for build in (hatch, _table(hatch, "targets", "wheel")):
        for package in _strings(build.get("packages")):
            yield posixpath.dirname(_clean(package))
        sources = build.get("sources")
        if isinstance(sources, dict):
            for prefix, replacement in sources.items():
                if isinstance(replacement, str):
                    yield from _root_of(replacement.replace("/", "."), prefix)
        else:
            yield from _strings(sources)
    for package in _table(tool, "poetry").get("packages") or ():
        if isinstance(package, dict) and isinstance(package.get("from"), str):
            yield package["from"]
    pdm = _table(tool, "pdm", "build").get("package-dir")
    if isinstance(pdm, str):
        yield pdm


def _root_of(name: object, directory: object) -> Iterator[str]:
    """The directory that holds the import name `name` when package `name` lives at
    `directory` (`""` at `lib` -> `lib`; `a.b` at `code/a/b` -> `code`); nothing for a
    rename (`mypkg` at `code/impl`)."""
    if not isinstance(name, str) or not isinstance(directory, str):
        return
    parts = [p for p in _clean(directory).split("/") if p]
    names = [p for p in name.strip(".").split(".") if p]
    if len(names) <= len(parts) and parts[len(parts) - len(names):] == names:
        yield "/".join(parts[: len(parts) - len(names)])


def _table(table: dict, *keys: str) -> dict:
    for k in keys:
        table = table.get(k) if isinstance(table, dict) else None
    return table if isinstance(table, dict) else {}


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _clean(path: str) -> str:
    """A root-relative posix directory, or '' for the root itself and for a path that leaves
    the checkout (absolute, or through `..`)."""
    path = posixpath.normpath(path.replace("\\", "/")) if path else "."
    if path == "." or path.startswith(("/", "../")) or path == "..":
        return ""
    return path
