"""Paths as rel_paths of a root: the one relativiser of the package.

The scan's walk, the tools' reports (absolute paths, paths relative to their working directory,
the root, or paths through a symlinked root), scip-python's crash report and the warehouse
folder's place in the tree all map a path to the POSIX rel_path under the root, or None when it
lies outside, with `RootPaths.rel`. It sits at the package top, importing nothing of it, so
extract/ (which tools/ imports) and tools/ share it without a cycle. No dagster import.
"""

from __future__ import annotations

import os


def rel_path_in_root(path: str, root: str) -> str | None:
    """POSIX path of `path` relative to `root`, or None when it lies outside root.

    `path` may be absolute or relative to root (the tools run with cwd=root). A root reached
    through a symlink matches both its spelled and its resolved form.
    """
    return RootPaths(root).rel(path)


class RootPaths:
    """`rel_path_in_root` for many paths of one root, each distinct path resolved once."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        spelled, real = self.root, os.path.realpath(root)
        self._prefixes = [b.rstrip(os.sep) + os.sep for b in dict.fromkeys((spelled, real))]
        self._cache: dict[str, str | None] = {}

    def rel(self, path: str) -> str | None:
        if path not in self._cache:
            self._cache[path] = self._resolve(path) if path else None
        return self._cache[path]

    def _resolve(self, path: str) -> str | None:
        full = os.path.normpath(os.path.join(self.root, path))
        return self._strip(full) or self._strip(os.path.realpath(full))

    def _strip(self, path: str) -> str | None:
        for prefix in self._prefixes:
            if path.startswith(prefix) and len(path) > len(prefix):
                return path[len(prefix):].replace(os.sep, "/")
        return None
