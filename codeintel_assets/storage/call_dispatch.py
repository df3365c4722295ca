"""Dispatch edges (class hierarchy analysis narrowed by the classes the code names), for
storage/callgraph.py: a call `recv.m(...)` whose receiver is an instance of in-repo class C
reaches, besides the method C's MRO resolves, the method every subclass of C resolves `m` to
(its own override, or one a mixin before C in its MRO gives). No DuckDB.

How the receiver's type is known (the edge's resolved_via, `dispatch_<how>`):
- self / cls: the first parameter of a method (extract/bindings.py);
- annotation / isinstance: a parameter's or variable's annotation, an isinstance test
  (extract/receiver_types.py; the file's ast);
- constructor (`x = C(...)`, `C(...).m()`): the class is exact, there is no dispatch (the
  MRO's method is the site's callee already);
- value: another value flow the references follow (a returned instance, an attribute set in
  `__init__`): C or a subclass;
- super: `super().m()` in class L: on an instance of a subclass, the MRO after L may pass
  through classes L does not know (a diamond: Left's super() reaches Right on a Both);
- getattr_pattern (the whole rule): `getattr(recv, "visit_" + x)`, `getattr(recv,
  f"visit_{x}")` reach every method whose name fits `visit_*` of the receiver's classes
  (dunders never; a pattern needs a literal prefix or suffix of 3 identifier characters, and
  one fitting more than _MAX_PATTERN methods reaches none);
- scip: no static receiver, but the SCIP occurrence at the method's name token (pyright's type
  of the receiver, core.scip_occurrences) names method `C.m`: C is the receiver's class.

Narrowing (rapid type analysis, approximated): a class is *named* when a call site's
references, an argument, a module-level alias or container, or a return value mentions it as a
value (not through self/cls, an annotation or an isinstance test). When some class of C's
subtree (C included) is named, only named classes count: an override in a class the code never
names is reached by no instance. When none is named (instances made elsewhere: a framework, a
factory by string), every class of the subtree counts. The base method's own edge is dropped
when every class counted overrides it and either every in-repo subclass, named or not,
overrides it too (a subclass only a framework or a string makes may inherit it: then it
stays), or it is abstract (core.definition_refs kind abstract: `@abstractmethod`, a body of
`...`, `pass`, a docstring or `raise NotImplementedError`). A site reaching more than
_MAX_FAN_OUT overrides keeps the base edge alone, its evidence saying so.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re

from codeintel_assets.storage.call_linker import Callee, Value, decode
from codeintel_assets.storage.call_points import FlowLinker

# Below a direct resolution (0.9) and one of several static callees (0.7): the receiver may
# be any class of the subtree; through SCIP's type alone, less sure still.
CONFIDENCE = {f"dispatch_{how}": 0.6 for how in
              ("self", "cls", "annotation", "isinstance", "value", "super")}
CONFIDENCE["dispatch_scip"] = CONFIDENCE["getattr_pattern"] = 0.5
KIND = "dispatch"
_LAST = re.compile(r"\.([^.()\[\]]+)$")
_NOT_NAMING = ("self_method", "cls_method", "super")
# Receivers whose class is exact: `C()` itself (a value flowing further, through returns or
# attributes, may come from a parameter or a subclass's constructor: it dispatches).
_EXACT = ("constructor",)
# Methods one getattr pattern may reach: above it the rule is dropped for the site (a name
# that fits that many methods is no dispatch table).
_MAX_PATTERN = 32
# Overrides one site may reach: more is a framework's hook (`save`, `run`) every class has, and
# edges to all of them say nothing a reader can follow.
_MAX_FAN_OUT = 64
ABSTRACT_SQL = """
SELECT qualname FROM core.definition_refs WHERE repo = $repo AND kind = 'abstract'
"""


class Dispatch:
    """Collects, while storage/callgraph.py resolves sites, the classes the code names and
    the sites with a method call on a typed receiver (`note`); `apply` then adds the
    dispatch callees."""

    def __init__(self, linker: FlowLinker, properties=None,
                 abstract: frozenset[str] = frozenset()):
        self.linker = linker
        self.properties = properties  # call_implicit.Properties: accessors of subclasses
        self.abstract = abstract  # qualnames of abstract methods (ABSTRACT_SQL)
        self.named: set[str] = set()
        self._pending: list[tuple[int, list[dict], dict | None, str]] = []
        self._methods: dict[str, list[str]] | None = None
        self._done: dict[tuple, tuple | None] = {}
        self._cone: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        self._noted: dict[tuple[str, bool], bool] = {}  # (refs text, SCIP names a method)
        self._noted_args: set[str] = set()  # args texts whose classes are named
        for refs in (*linker.aliases.values(), *linker.items.values(),
                     *(f.return_refs or () for f in linker.facts.values())):
            # stored and returned values lost the rule that found them (self's too): only a
            # class itself stored or returned names it
            self._name([r for r in refs if r["attr"] == "" or r["attr"].count(".") == 1
                        and "(" not in r["attr"] and "[" not in r["attr"]])

    def _name(self, refs) -> None:
        for r in refs:
            if r.get("mode") != "value" or r.get("via") in _NOT_NAMING or r.get("typed"):
                continue
            value = self.linker.dotted(r["ref"], exact=r.get("exact", False))
            step = re.match(r"\.([^.()\[\]]+)", r["attr"])
            if value.kind == "module" and step:
                value = self.linker.member(value, step.group(1))
            if value.kind == "class":
                self.named.add(value.qualname)

    def note(self, index: int, site: dict, refs: list[dict], scip_row: dict | None) -> None:
        """Site `index` of the resolved list, with its references (a statement's are all
        `extra`) and its SCIP-named GOID row; the site's arguments name classes too. What a
        site names and whether it is pending depend on its refs and args texts only: each
        distinct text is read once (django has 236,000 sites, 62,000 distinct refs)."""
        method = scip_row is not None and scip_row["kind"] == "method"
        key = (site["refs"], method)
        pending = self._noted.get(key)
        if pending is None:
            self._name([r for r in refs if not r.get("extra")])  # a statement's: self's too
            pending = self._noted[key] = any(
                _LAST.search(r["attr"]) or "pattern" in r for r in refs
                if not r.get("extra")) or any(r.get("extra", "").startswith("property")
                                             for r in refs) or method
        if site["args"] != "[]" and site["args"] not in self._noted_args:
            self._noted_args.add(site["args"])
            for a in decode(site["args"]) or ():
                self._name(a["refs"])
        if pending:
            self._pending.append((index, refs, scip_row, site["callee_name"]))

    def accesses_property(self, refs: list[dict]) -> bool:
        """Whether `refs` read, assign or delete an attribute some repository class has a
        property of: a subclass's accessor may be reached where the receiver's own MRO gives
        none (`self.name` in a base declaring `name: str`, a property in a subclass)."""
        return self.properties is not None and next(self.properties.accesses(refs),
                                                    None) is not None

    def apply(self, resolved: list[tuple[dict, list[Callee], dict | None]]
              ) -> list[tuple[dict, list[Callee], dict | None]]:
        """`resolved` with each noted site's dispatch callees added after its own (and its
        base callee dropped where no named class reaches it)."""
        for index, refs, scip_row, name in self._pending:
            site, callees, param = resolved[index]
            key = (tuple((r["ref"], r["mode"], r["attr"], r["via"], r.get("typed"),
                          r.get("pattern"), r.get("extra")) for r in refs),
                   scip_row["qualname"] if scip_row else None, name.rsplit(".", 1)[-1])
            if key not in self._done:  # `self.m()` in one class: many sites, one answer
                self._done[key] = self._dispatch(refs, scip_row, name)
            got = self._done[key]
            if not got:
                continue
            reached, drop, capped = got
            have = {c.goid for c in callees}
            kept = [c for c in callees if (c.goid is None and (c.via != "unknown" or not reached))
                    or c.goid not in drop]
            kept = [dataclasses.replace(c, note=capped[c.goid]) if c.goid in capped else c
                    for c in kept]
            added = [c for c in reached if c.goid not in have]
            if added or len(kept) < len(callees) or capped:
                resolved[index] = (site, (kept + added) or callees, param)
        return resolved

    def _dispatch(self, refs: list[dict], scip_row: dict | None, name: str
                  ) -> tuple[list[Callee], set, dict] | None:
        """(dispatch callees, GOIDs of base callees no class reaches (the module docstring),
        base GOID -> the evidence note of a site whose overrides were too many) of one site."""
        receivers: dict[tuple[str, str, bool], str] = {}  # (class, method, super) -> how
        known = False  # a static rule knows the receiver (`Base.m(self)` is no dispatch)
        patterned = self._patterned(refs) + self._accessors(refs)
        for r in refs:
            last = _LAST.search(r["attr"])
            if r.get("extra"):
                continue
            if r["mode"] == "super" and last is not None and last.start() == 0:
                receivers.setdefault((r["ref"], last.group(1), True), "super")
            if r["mode"] != "value" or last is None:
                continue
            value = self.linker.ref({**r, "attr": r["attr"][:last.start()]})
            known = known or value.kind != "unknown"
            how = _how({**r, "attr": r["attr"][:last.start()]}, self.linker)  # the receiver's
            if how in _EXACT:  # `C().m()`, `x = C(); x.m()`: C itself, no subclass
                continue
            if value.kind == "instance" or (value.kind == "class" and r["via"] == "cls_method"):
                receivers.setdefault((value.qualname, last.group(1), False), how)
        if not receivers and scip_row is not None and scip_row["kind"] == "method" \
                and "." in name and not known and not any(r["mode"] == "super" for r in refs):
            cls, _, method = scip_row["qualname"].rpartition(".")
            if self.linker.defs.get(cls, (None, ""))[1] == "class" \
                    and name.rsplit(".", 1)[-1] == method:
                receivers[(cls, method, False)] = "scip"
        if not receivers and not patterned:
            return None
        reached = {c.goid: c for c in patterned}
        drop: set = set()
        capped: dict = {}
        for (cls, method, is_super), how in receivers.items():
            cone = self.cone(cls, method, is_super)
            live = [t for t, is_named in cone if is_named]
            targets = set(live) if live else {t for t, _ in cone}
            base = self._resolve(cls, cls, method, is_super)
            is_def = base.kind in ("function", "method")
            overrides = sorted(targets - {base.qualname})
            if len(overrides) > _MAX_FAN_OUT:
                if is_def:
                    capped[self.linker.defs[base.qualname][0]] = \
                        f"{len(overrides)} overrides left out (more than {_MAX_FAN_OUT})"
                continue
            inherited = sum(t == base.qualname for t, _ in cone) > 1  # by a subclass
            if is_def and base.qualname not in targets and (
                    base.qualname in self.abstract or not inherited):
                drop.add(self.linker.defs[base.qualname][0])
            for t in overrides:
                goid = self.linker.defs[t][0]
                reached.setdefault(goid, Callee(goid, t, f"dispatch_{how}", kind=KIND))
        return list(reached.values()), drop - reached.keys(), capped

    def _accessors(self, refs: list[dict]) -> list[Callee]:
        """Property accessors a read, assignment or `del` of `C().name` reaches in the named
        classes of C's subtree (the accessor C's own MRO gives is the site's already)."""
        if self.properties is None:
            return []
        out = {}
        for receiver, name, role in self.properties.accesses(refs):
            value = self.linker.ref(receiver)
            subtree = self.subclasses().get(value.qualname, ()) \
                if value.kind == "instance" else ()
            # the cone's rule: once C or a subclass is named, only named classes count
            named = value.qualname in self.named or any(c in self.named for c in subtree)
            for sub in [c for c in subtree if c in self.named] if named else subtree:
                got = self.properties.edge(sub, name, role)
                if got is not None:
                    out.setdefault(got.goid, got)
        return list(out.values())

    def _patterned(self, refs: list[dict]) -> list[Callee]:
        """Methods `getattr(recv, "visit_" + x)` reaches (a reference with `pattern`): each
        method of a named class of the receiver's subtree (all when none is named) whose name
        fits, found along that class's MRO."""
        out = {}
        for r in refs:
            value = self.linker.ref(r) if "pattern" in r else None
            if value is None or value.kind != "instance":
                continue
            subtree = [value.qualname, *self.subclasses().get(value.qualname, ())]
            classes = [c for c in subtree if c in self.named] or subtree
            found = {}
            for sub in classes:
                for cls in self.linker.mro(sub):
                    for name in fnmatch.filter(self.methods().get(cls, ()), r["pattern"]):
                        if name.startswith("__") and name.endswith("__"):
                            continue  # a dunder is the language's, never a handler
                        got = self.linker.member(Value("instance", sub), name)
                        if got.kind in ("function", "method"):
                            goid = self.linker.defs[got.qualname][0]
                            found.setdefault(goid, Callee(goid, got.qualname,
                                                          "getattr_pattern", kind=KIND))
            if len(found) <= _MAX_PATTERN:  # more: the pattern says too little, no edges
                out.update(found)
        return list(out.values())

    def methods(self) -> dict[str, list[str]]:
        """In-repo class -> the names of the methods it defines."""
        if self._methods is None:
            self._methods = {}
            for q, (_, kind) in self.linker.defs.items():
                if kind == "method" and "#" not in q:
                    cls, _, name = q.rpartition(".")
                    self._methods.setdefault(cls, []).append(name)
        return self._methods

    def cone(self, cls: str, method: str, is_super: bool = False) -> list[tuple[str, bool]]:
        """(the definition `method` resolves to, the class is named) for an instance of class
        `cls` and of each in-repo subclass, where it resolves to a function or method;
        `is_super`: `super().method` in class `cls` (the MRO after `cls`)."""
        key = (cls, method, is_super)
        if key not in self._cone:
            out = []
            for sub in [cls, *self.subclasses().get(cls, ())]:
                got = self._resolve(sub, cls, method, is_super)
                if got.kind in ("function", "method"):
                    out.append((got.qualname, sub in self.named))
            self._cone[key] = out
        return self._cone[key]

    def _resolve(self, sub: str, cls: str, method: str, is_super: bool) -> Value:
        """`method` on an instance of `sub`; `is_super`: as `super().method` in `cls`."""
        if not is_super:
            return self.linker.member(Value("instance", sub), method)
        mro = self.linker.mro(sub)
        for c in mro[mro.index(cls) + 1:] if cls in mro else ():
            q = f"{c}.{method}"
            if self.linker.defs.get(q, (None, ""))[1] in ("function", "method"):
                return Value(self.linker.defs[q][1], q)
        return Value("unknown")

    def subclasses(self) -> dict[str, list[str]]:
        """In-repo class -> every in-repo class with it in its MRO (itself excluded)."""
        return self.linker.subclasses()


def _how(r: dict, linker: FlowLinker) -> str:
    """How a receiver reference's type is known (the module docstring's list); `r` is the
    receiver's reference (the method's step cut off)."""
    if r.get("typed"):
        return r["typed"]
    if r["via"] in ("self_method", "cls_method"):
        return "self" if r["via"] == "self_method" else "cls"
    if r["attr"] == "()" and linker.dotted(r["ref"]).kind == "class":  # not `C().attr`
        return "constructor"
    return "value"
