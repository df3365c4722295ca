"""Naming for tools/glean_scip.py: pyrefly's Glean names as SCIP symbols in scip-python's
grammar (the module docstring of glean_scip says which), and what an earlier index of ours
says of the documents an update keeps. Pure; no dagster import."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from itertools import pairwise

from codeintel_assets.tools import scip_pb2
from codeintel_assets.tools.glean_facts import GleanFacts, inherited
from codeintel_assets.tools.scip_symbols import METHOD, parse_symbol

_SIMPLE = re.compile(r"[A-Za-z0-9_+\-$]+")
_SUFFIX = {"cls": "#", "func": "()."}


def _escape(name: str) -> str:
    return name if _SIMPLE.fullmatch(name) else "`" + name.replace("`", "``") + "`"


def _field(text: str) -> str:
    return text.replace(" ", "  ") if text else "."


@dataclass
class Known:
    """What an earlier index says of the documents an update keeps (`known_symbols`):
    symbols (Glean name -> symbol), bases (class name -> base names), modules (rel_path ->
    module name)."""

    symbols: dict[str, str] = field(default_factory=dict)
    bases: dict[str, list[str]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)


class Namer:
    """Glean names -> SCIP symbols for one conversion (see the module docstring); `known`
    names the targets declared in files this run did not index."""

    def __init__(self, facts: GleanFacts, project_name: str, project_version: str,
                 known: Known | None = None) -> None:
        known = known or Known()
        self.head = f"scip-python python {_field(project_name)} {_field(project_version)} "
        self.kind: dict[str, str] = {}
        self.module_of: dict[str, str] = dict(known.modules)
        for d in facts.decls:
            if d.kind != "imp":
                self.kind.setdefault(d.name, d.kind)
            if d.kind == "module":
                self.module_of[d.rel_path] = d.name
        self.params = facts.params
        self.bases = {**known.bases, **facts.bases}
        self.known = known.symbols
        self._own: dict[str, str | None] = {}
        self.classes_named: dict[str, list[str]] = {}  # short name -> classes (with bases)
        for cls in sorted({n for n, k in self.kind.items() if k == "cls"} | set(self.bases)):
            self.classes_named.setdefault(cls.rsplit(".", 1)[-1], []).append(cls)

    def declared(self, name: str) -> bool:
        return name in self.kind or name in self.known

    def symbol(self, name: str, rel_path: str) -> str | None:
        """The global symbol of `name` declared in `rel_path`; None for a local."""
        if name not in self._own:
            self._own[name] = self._build(name, self.module_of.get(rel_path, ""))
        return self._own[name]

    def _build(self, name: str, module: str) -> str | None:
        if not module or not (name == module or name.startswith(module + ".")):
            return None
        out = [self.head, _escape(module), "/"]
        if name == module:
            return "".join([*out, "__init__:"])
        parts = name[len(module) + 1:].split(".")
        prefix = module
        for i, part in enumerate(parts):
            prefix = f"{prefix}.{part}"
            if part == "<locals>":
                continue
            kind = self.kind.get(prefix)
            if i and parts[i - 1] == "<locals>" and kind not in _SUFFIX:
                function = prefix.rsplit(".", 2)[0]
                if i == len(parts) - 1 and part in self.params.get(function, ()):
                    out.append(f"({_escape(part)})")
                    continue
                return None  # a local variable
            out.append(_escape(part) + _SUFFIX.get(kind, "."))
        return "".join(out)

    def target(self, name: str, rel_of: Callable[[str], str | None],
               target_file: str | None = None) -> str | None:
        """The global symbol of a reference target declared in the repository, along the
        bases for an attribute named after a receiver's class; None if it is not (or is a
        local). `rel_of(name)`: the file declaring `name` in this run, else None."""
        for candidate in (name, self.renamed(name, target_file),
                          self.receiver_member(name, target_file)):
            found = self._lookup(candidate, rel_of) if candidate else None
            if found is None and candidate:
                base_name = inherited(candidate, self.bases, self.declared)
                found = self._lookup(base_name, rel_of) if base_name else None
            if found is not None:
                return found
        return None

    def renamed(self, name: str, target_file: str | None) -> str | None:
        """`name` with its module as the declarations name it, when pyrefly imported that
        module under a shorter name (`helpers.helper` for `support/helpers.py`, declared as
        `support.helpers`: another search path); None when that is not the case."""
        module = self.module_of.get(target_file or "")
        parts = module.split(".") if module else []
        for k in range(1, len(parts)):
            alias = ".".join(parts[k:])
            if name == alias or name.startswith(alias + "."):
                return module + name[len(alias):]
        return None

    def receiver_member(self, name: str, target_file: str | None) -> str | None:
        """pyrefly names an inherited attribute after the declaring class's module and the
        receiver's class (`pkg.base.Sub.greet` for `Base.greet` of pkg/base.py on a `Sub` of
        pkg/a.py): the declared member of that module found along the bases of the classes
        named like the receiver (sorted), else None."""
        module = self.module_of.get(target_file or "")
        owner, _, attr = name.rpartition(".")
        if not module or not owner.startswith(module + "."):
            return None
        for cls in self.classes_named.get(owner.rsplit(".", 1)[-1], ()):
            found = inherited(f"{cls}.{attr}", self.bases, self.declared)
            if found and found.startswith(module + "."):
                return found
        return None

    def _lookup(self, name: str, rel_of: Callable[[str], str | None]) -> str | None:
        rel = rel_of(name)
        return self.symbol(name, rel) if rel is not None else self.known.get(name)


def external_symbol(name: str, target_file: str) -> str:
    """A library's (or typeshed's) name as a symbol, its module taken from `target_file`."""
    module = re.sub(r"\.pyi?$", "", target_file).replace("/", ".").removesuffix(".__init__")
    package = _field(module.split(".", 1)[0])
    head = f"scip-python python {package} . {_escape(module)}/"
    if name == module:
        return head + "__init__:"
    rest = name[len(module) + 1:] if name.startswith(module + ".") else name
    return head + "".join(_escape(p) + "." for p in rest.split("."))


def glean_name(symbol: str, head: str) -> str | None:
    """The Glean name of one of our own global symbols (the inverse of Namer.symbol: a
    function's or method's descriptor is followed by `<locals>`); None for another's."""
    if not symbol.startswith(head):
        return None
    try:
        descriptors = parse_symbol(symbol).descriptors
    except ValueError:
        return None
    names = [descriptors[0].name] if descriptors else []
    for prev, d in pairwise(descriptors):
        if d.name == "__init__" and d.suffix == ":":
            break
        if prev.suffix == METHOD:
            names.append("<locals>")
        names.append(d.name)
    return ".".join(names) or None


@dataclass(frozen=True)
class Earlier:
    """The index an update merges into (`index`) and the scan's Python files now (`files`,
    rel_paths): of its documents, those of the files kept (scanned, not indexed again) name
    the targets declared outside the files an update indexes, as a full run would."""

    index: scip_pb2.Index
    files: frozenset[str]


def known_symbols(earlier: Earlier | None, indexed: Collection[str], project_name: str,
                  project_version: str) -> Known:
    """What the documents of `earlier` that stand (files of the scan not `indexed` now) say
    of the repository's declarations, as this module wrote them; empty without one."""
    known = Known()
    if earlier is None:
        return known
    head = f"scip-python python {_field(project_name)} {_field(project_version)} "
    for doc in earlier.index.documents:
        if doc.relative_path not in earlier.files or doc.relative_path in indexed:
            continue
        for info in doc.symbols:
            name = glean_name(info.symbol, head)
            if name is None:
                continue
            known.symbols.setdefault(name, info.symbol)
            if info.symbol.endswith("/__init__:"):
                known.modules[doc.relative_path] = name
            parents = [glean_name(r.symbol, head) for r in info.relationships
                       if r.is_implementation]
            if parents:
                known.bases[name] = [p for p in parents if p]
    return known
