"""The references each binding stands for, cached for extract/calls.py (FileCalls), with the
depth limit in mind.

FileCalls.refs stops at a depth limit (alias chains, value flow): a binding first resolved
deep in a chain (`self.previous_line = current_line` read through `self.previous_line.x`)
may come out None or [] only because the search was cut below it. Cached as the binding's
answer, that partial result hid `current_line: Line` from every later shallow read (black lost
its property and dunder edges there). A result found with the limit cut is kept per depth
(at most the limit's number of entries per binding); a complete one for every depth.
"""

from __future__ import annotations

from collections.abc import Callable


class BindingCache:
    """id(Binding) -> its references (None: opaque). `cut` is set by the resolver when it
    stops at the depth limit; `get` tells complete results from cut ones by it."""

    def __init__(self):
        self.cut = False
        self._full: dict[int, list[dict] | None] = {}
        self._partial: dict[tuple[int, int], list[dict] | None] = {}

    def get(self, key: int, depth: int, compute: Callable[[], list[dict] | None]
            ) -> list[dict] | None:
        """The cached references of binding `key` read at `depth`, else `compute()`'s."""
        if key in self._full:
            return self._full[key]
        if (key, depth) in self._partial:
            return self._partial[(key, depth)]
        outer, self.cut = self.cut, False
        got = compute()
        if self.cut:
            self._partial[(key, depth)] = got
        else:
            self._full[key] = got
        self.cut = self.cut or outer
        return got
