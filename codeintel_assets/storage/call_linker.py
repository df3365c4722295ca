"""Cross-file call resolution: what a file-local reference (core.call_sites.refs, built by
extract/calls.py) means in the whole repository. No Dagster, no DuckDB: plain Python over the
rows storage/callgraph.py reads.

A reference is an absolute dotted name plus an attribute path (`.name`, `()`). Its base is
resolved against the repository's definitions (core.goids qualnames) and module-level imports
(core.imports: re-exports such as `from .util import helper` in `pkg/__init__.py`, and star
imports); each step then moves along it:

- `.name` on a module: its definition, re-export or star-imported name; on a class or an
  instance: the member found along the class's MRO (C3 over in-repo bases; a base outside the
  repository ends the search); on an external name: the longer external name.
- `()` on a class: an instance of it; on a function: the single function or class it returns
  by name (ast_nodes.return_refs); anything else is unknown.

Calling the final value: a function or method is the callee; a class means its constructor,
the `__init__` found along its MRO, else the class itself; an instance means its `__call__`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

_SEGMENT = re.compile(r"\.([^.()]+)|\(\)")
_MAX_DEPTH = 12
# Bases outside the repository that define nothing a subclass calls as its own.
_EMPTY_BASES = frozenset({"builtins.object", "abc.ABC", "typing.Protocol", "typing.Generic",
                          "typing_extensions.Protocol"})


@dataclass(frozen=True)
class Value:
    """What an expression evaluates to: a definition (kind module | class | function | method),
    an instance of a class (kind instance, qualname = the class), an external dotted name
    (kind external | builtin | inherited), or nothing known (kind unknown)."""

    kind: str
    qualname: str = ""


UNKNOWN = Value("unknown")
# Values outside the repository: `inherited` is a member a class does not define in the
# repository, taken to come from its base outside it (a guess: a subclass may define it).
_OUTSIDE = ("external", "builtin", "inherited")
# Rules naming a class itself (not a value flowing into it): calling it is `constructor`.
_NAME_RULES = ("local_name", "enclosing_scope", "module_global", "import_alias",
               "star_import", "cls_method", "attribute")


class DefFacts(NamedTuple):
    """A definition's core.ast_nodes facts, decoded: bases (ClassDef: candidate references per
    base), params (FunctionDef: names in call order), return_refs (FunctionDef)."""

    bases: list | None
    params: list | None
    return_refs: list | None


@dataclass(frozen=True)
class Callee:
    """The resolution of one call site: goid (None outside the repository), the dotted target
    where known, the rule, and the candidates it chose among."""

    goid: Decimal | None
    target: str | None
    via: str
    candidates: tuple[str, ...] = ()
    # The other resolution's target where SCIP and the static rules disagree (evidence).
    disagrees: str | None = None
    guessed: bool = False  # chosen as the binding that runs last among disagreeing ones
    # Called by the statement or builtin at the site, not by the site's own call expression
    # (`with` -> __enter__, a sorted key): graph.call_graph_edges.kind 'implicit'.
    implicit: bool = False
    kind: str = ""  # graph kind other than direct/implicit: dispatch (storage/call_dispatch.py)
    note: str = ""  # what the resolution left out (evidence.dispatch)


class Linker:
    """Resolves references over one repository's definitions and module-level imports.

    `defs`: qualname -> (goid, kind) of core.goids (modules included);
    `facts`: qualname -> DefFacts (decoded ast_nodes JSON);
    `imports`: module -> {bound name: absolute target} of its module-scope imports;
    `stars`: module -> star-imported modules in order; `packages`: top-level package names
    of the repository (a dotted name under one of them that resolves to nothing is unknown,
    not external); `implementations`: module of a stub a .py implements (not in `defs`) ->
    the implementation's module: a name under the stub's module means the name under that."""

    def __init__(self, defs: dict[str, tuple[Decimal, str]], facts: dict[str, DefFacts],
                 imports: dict[str, dict[str, str]], stars: dict[str, list[str]],
                 packages: set[str], aliases: dict[str, list[dict]] | None = None,
                 implementations: dict[str, str] | None = None):
        self.defs, self.facts, self.imports, self.stars = defs, facts, imports, stars
        self.packages = packages
        self.aliases = aliases or {}
        # module-level container qualname -> its item references (storage/call_items.py)
        self.items: dict[str, list[dict]] = {}
        self.implementations = implementations or {}
        # A name defined twice in one scope (`#2`, `#3`...): its last definition is the one
        # bound once the module or class body has run.
        self.latest: dict[str, str] = {}
        highest: dict[str, int] = {}
        for q in defs:
            base, sep, n = q.rpartition("#")
            if sep and n.isdigit() and int(n) > highest.get(base, 1):
                highest[base], self.latest[base] = int(n), q
        self._mro: dict[str, list[str]] = {}
        self._outside: dict[str, list[Value]] = {}  # class -> its bases outside the repository
        self._dotted: dict[str, Value] = {}

    # ---- values ----------------------------------------------------------------------------

    def dotted(self, name: str, depth: int = 0, exact: bool = False) -> Value:
        """The value of an absolute dotted name; `exact`: a definition's own qualname, not
        the last redefinition of its name."""
        if exact and name in self.defs:
            return Value(self.defs[name][1], name)
        if name in self._dotted:
            return self._dotted[name]
        asked = name
        if "@" in name and name not in self.defs:  # stub modules are `<name>@<rel_path>`
            name = self._implementation(name)
        if name in self.defs:
            name = self.latest.get(name, name)
            value = Value(self.defs[name][1], name)
        elif name.startswith("builtins."):
            value = Value("builtin", name)
        else:
            parts = name.split(".")
            value = Value("unknown") if parts[0] in self.packages else Value("external", name)
            for k in range(len(parts) - 1, 0, -1):
                prefix = ".".join(parts[:k])
                if prefix in self.defs:
                    prefix = self.latest.get(prefix, prefix)
                    value = Value(self.defs[prefix][1], prefix)
                    for part in parts[k:]:
                        value = self.member(value, part, depth + 1)
                    break
        if depth == 0:
            self._dotted[asked] = value
        return value

    def _implementation(self, name: str) -> str:
        """`name` with a stub module's prefix replaced by its implementation's (`#N` stays:
        a stub's own references are exact)."""
        for stub, module in self.implementations.items():
            if name == stub or name.startswith(stub + "."):
                return module + name[len(stub):]
        return name

    def member(self, value: Value, name: str, depth: int = 0) -> Value:
        """`value.name`."""
        if depth > _MAX_DEPTH:
            return UNKNOWN
        if value.kind in _OUTSIDE:
            return Value(value.kind, f"{value.qualname}.{name}")
        if value.kind == "module":
            q = f"{value.qualname}.{name}"
            if q in self.defs:
                return self._def(q)
            target = self.imports.get(value.qualname, {}).get(name)
            if target is not None and target != q:
                return self.dotted(target, depth + 1)
            if q in self.aliases:
                return self._alias(q, depth)
            for star in self.stars.get(value.qualname, ()):
                got = self.member(Value("module", star), name, depth + 1) \
                    if star in self.defs else UNKNOWN
                if got.kind != "unknown":
                    return got
            return UNKNOWN
        if value.kind in ("class", "instance"):
            for cls in self.mro(value.qualname):
                q = f"{cls}.{name}"
                if q in self.defs:
                    return self._def(q)
                if q in self.aliases:  # `handler = helper` in a class body
                    return self._alias(q, depth)
            # not defined in the repository's part of the MRO: inherited from a base outside it
            # (self.assertEqual in a unittest.TestCase subclass)
            for cls in self.mro(value.qualname):
                for base in self._outside.get(cls, ()):
                    return Value("inherited", f"{base.qualname}.{name}")
            return UNKNOWN
        return UNKNOWN

    def _def(self, qualname: str) -> Value:
        qualname = self.latest.get(qualname, qualname)
        return Value(self.defs[qualname][1], qualname)

    def _alias(self, qualname: str, depth: int) -> Value:
        """The value a module- or class-level assignment binds (one candidate only)."""
        if depth > _MAX_DEPTH:
            return UNKNOWN
        values = {self.ref(r, depth + 1) for r in self.aliases[qualname]}
        values.discard(UNKNOWN)
        return values.pop() if len(values) == 1 else UNKNOWN

    def call(self, value: Value, depth: int = 0) -> Value:
        """The value `value()` returns."""
        if value.kind == "class":
            return Value("instance", value.qualname)
        if value.kind in ("function", "method") and depth <= _MAX_DEPTH:
            returned = {self.ref(r, depth + 1) for r in self._returns(value.qualname)}
            returned.discard(UNKNOWN)
            return returned.pop() if len(returned) == 1 else UNKNOWN
        if value.kind in _OUTSIDE:
            return Value(value.kind, f"{value.qualname}()")
        return UNKNOWN

    def ref(self, ref: dict, depth: int = 0) -> Value:
        """The value of one file-local reference (extract/calls.py); param references are
        resolved by the caller (they need the call graph itself)."""
        mode, attr = ref["mode"], ref["attr"]
        if mode == "builtin":
            return Value("builtin", ref["ref"])
        if mode == "param":
            return UNKNOWN
        if mode == "super":  # super().name: the first class after ref's own along its MRO
            first = _SEGMENT.match(attr)
            if first is None or not first.group(1):
                return UNKNOWN
            value, start = UNKNOWN, self.dotted(ref["ref"], depth, ref.get("exact", False))
            for cls in self.mro(start.qualname)[1:] if start.kind == "class" else ():
                q = f"{cls}.{first.group(1)}"
                if q in self.defs:
                    value = self._def(q)
                    break
            attr = attr[first.end():]
        else:
            value = self.dotted(ref["ref"], depth, ref.get("exact", False))
        for m in _SEGMENT.finditer(attr):
            if value.kind == "unknown":
                break
            value = self.member(value, m.group(1), depth) if m.group(1) else \
                self.call(value, depth)
        return value

    def mro(self, cls: str) -> list[str]:
        """C3 linearisation of in-repo class `cls` (its own qualname first); bases outside the
        repository (kept apart for member lookups), or not resolvable, are left out."""
        if cls in self._mro:
            return self._mro[cls]
        self._mro[cls] = [cls]  # a cycle (broken code) ends here
        bases = []
        facts = self.facts.get(cls)
        for candidates in (facts.bases if facts else None) or ():
            values = {self.ref(r) for r in candidates} - {UNKNOWN}
            if len(values) != 1:
                continue
            base = values.pop()
            if base.kind == "class":
                bases.append(base.qualname)
            elif base.kind in ("external", "builtin") and base.qualname not in _EMPTY_BASES:
                self._outside.setdefault(cls, []).append(base)
        seqs = [list(self.mro(b)) for b in bases] + [list(bases)]
        out = [cls]
        while any(seqs):
            seqs = [s for s in seqs if s]
            head = next((s[0] for s in seqs if not any(s[0] in t[1:] for t in seqs)), None)
            if head is None:  # inconsistent hierarchy: Python refuses it; keep depth-first
                head = seqs[0][0]
            out.append(head)
            seqs = [s[1:] if s[0] == head else s for s in seqs]
        self._mro[cls] = out
        return out

    def defining(self, cls: str, name: str) -> tuple[Decimal, str] | None:
        """(goid, qualname) of the function or method `name` that in-repo class `cls` has
        along its MRO (its own, else the first class after it that defines the name: an
        inherited test method); None when `cls` is no class of the repository or no in-repo
        class of its MRO defines `name` as a function."""
        if self.defs.get(cls, (None, ""))[1] != "class":
            return None
        got = self.member(self._def(cls), name)
        return (self.defs[got.qualname][0], got.qualname) \
            if got.kind in ("function", "method") else None

    def _returns(self, qualname: str) -> list[dict]:
        facts = self.facts.get(qualname)
        return [r for r in facts.return_refs or () if "item" not in r] if facts else []

    def params(self, qualname: str) -> list[str]:
        facts = self.facts.get(qualname)
        return (facts.params or []) if facts else []

    # ---- callees ---------------------------------------------------------------------------

    def callee(self, value: Value, via: str, named: bool = True) -> Callee:
        """The callee of calling `value`, found by rule `via`. A class named directly
        (`named`: a name-binding rule with no attribute path after it) is a `constructor`
        call; one reached through a value (`make()()`, `REG["a"]()`) keeps its rule."""
        if value.kind in ("function", "method"):
            return Callee(self.defs[value.qualname][0], value.qualname, via)
        if value.kind in ("class", "instance"):
            rule = "constructor" if value.kind == "class" and named and via in _NAME_RULES \
                else via
            init = self.member(value, "__init__" if value.kind == "class" else "__call__")
            if init.kind == "method":
                return Callee(self.defs[init.qualname][0], init.qualname, rule)
            if value.kind == "class":
                return Callee(self.defs[value.qualname][0], value.qualname, rule)
        if value.kind == "inherited":
            return Callee(None, value.qualname, "inherited_external")
        if value.kind in ("external", "builtin"):
            return Callee(None, value.qualname, value.kind)
        return Callee(None, None, "unknown")

    def resolve_all(self, refs: list[dict]) -> list[Callee]:
        """Every callee of a call site: `resolve`'s answer, or, where its candidates name
        several in-repo definitions (a name bound to one function or another, a dict of
        handlers), one Callee per definition, in target order."""
        got = self.resolve(refs)
        if got.via != "ambiguous":
            return [got]
        chosen = {c.goid: c for c, _ in self._found([r for r in refs if not r.get("fallback")])
                  if c.goid is not None}
        return sorted((Callee(c.goid, c.target, c.via, got.candidates, guessed=c.guessed)
                       for c in chosen.values()), key=lambda c: c.target)

    def implicit(self, refs: list[dict]) -> list[Callee]:
        """The in-repo callees of references a statement or builtin calls (`extra` refs:
        extract/calls.py), each marked implicit with the protocol as its rule."""
        out = {}
        for r in refs:
            if r["extra"].startswith(("property", "dunder")):  # storage/call_implicit.py
                continue
            c = self.callee(self.ref(r), r["via"], named="(" not in r["attr"])
            if c.goid is not None and c.goid not in out:
                out[c.goid] = Callee(c.goid, c.target, r["extra"], implicit=True)
        return list(out.values())

    def _found(self, refs: list[dict]) -> list[tuple[Callee, dict]]:
        star_hit = False
        found: list[tuple[Callee, dict]] = []
        for r in refs:
            if r["mode"] == "param" or "pattern" in r:  # a name pattern: call_dispatch.py
                continue
            for value in self.values(r):
                callee = self.callee(value, r["via"], named="(" not in r["attr"])
                if r.get("last"):
                    callee = Callee(callee.goid, callee.target, callee.via, guessed=True)
                if r["via"] == "star_import":
                    if callee.goid is None:
                        continue  # the star-imported module does not define it
                    star_hit = True
                elif r["mode"] == "builtin" and star_hit:
                    continue
                found.append((callee, r))
        return found

    def values(self, r: dict) -> list[Value]:
        """The values reference `r` may stand for: here its one `ref`
        (storage/call_points.py follows branches and several returns)."""
        return [self.ref(r)]

    def resolve(self, refs: list[dict]) -> Callee:
        """The callee of a call site from its candidate references: the one in-repo definition
        they agree on; several distinct ones are `ambiguous`; none, a builtin or external
        target if one is known, else `unknown`."""
        fallback = [r for r in refs if r.get("fallback")]
        found = self._found([r for r in refs if not r.get("fallback")])
        got = pick([c for c, _ in found])
        # `except ImportError: def f()`: the fallback is what runs when the import is not
        # there to resolve (nothing known about it)
        return got if got.via != "unknown" or not fallback else \
            self.resolve([{**r, "fallback": False} for r in fallback])


def pick(callees: list[Callee]) -> Callee:
    """One callee out of the candidates' resolutions (see Linker.resolve)."""
    goids = {c.goid: c for c in callees if c.goid is not None}
    if len(goids) == 1:
        return next(iter(goids.values()))
    if len(goids) > 1:
        return Callee(None, None, "ambiguous", tuple(sorted(c.target for c in goids.values())))
    known = [c for c in callees if c.target is not None]
    return known[0] if known else Callee(None, None, "unknown")


def decode(text: str | None):
    return json.loads(text) if text else None
