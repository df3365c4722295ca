"""Implicit calls of attribute accesses and operators, for storage/callgraph.py (the
references extract/implicit_calls.py marks `extra`):

- property | property_set | property_del: `C().attr` reaches the getter, setter or deleter
  of the first class along C's MRO that defines `attr`, when that definition is a property
  (core.definition_refs rows of kind property); resolved_via 'property';
- `dunder:<names>`: on an instance of C, the first of the dunders C's MRO defines in the
  repository (a base outside the repository defining it, or none: no edge); resolved_via
  'operator';
- a call of a class (`Leaf(...)`, `cls()`, a class reached through a value) runs its
  `__new__` before its `__init__`: the `__new__` C's MRO defines in the repository
  (`allocators`); resolved_via 'constructor_new'. From the site's own references (the class
  they evaluate to, storage/call_points.py), not SCIP.

Edges of kind 'implicit' at the expression's line. No DuckDB beyond `read`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from codeintel_assets.storage.call_linker import Callee, Linker

PROPERTIES_SQL = """
SELECT qualname, value_refs FROM core.definition_refs
WHERE repo = $repo AND kind = 'property'
ORDER BY rel_path
"""
ROLES = {"property": "getter", "property_set": "setter", "property_del": "deleter"}


def allocators(refs: list[dict], linker: Linker) -> list[Callee]:
    """The in-repo `__new__` each class the call site's callee references (`refs`, none
    `extra`) may evaluate to runs when called; [] for anything else."""
    values = getattr(linker, "values", None)
    out: dict = {}
    for r in refs:
        for value in (values(r) if values is not None else [linker.ref(r)]):
            if value.kind != "class":
                continue
            got = linker.member(value, "__new__")
            if got.kind in ("function", "method") and got.qualname in linker.defs:
                goid = linker.defs[got.qualname][0]
                out.setdefault(goid, Callee(goid, got.qualname, "constructor_new",
                                            implicit=True))
    return list(out.values())


class Properties:
    """Accessors by (class, property name): role (getter | setter | deleter) -> qualname."""

    def __init__(self, linker: Linker, rows: list[tuple[str, str]]):
        self.linker = linker
        self.accessors: dict[tuple[str, str], dict[str, str]] = {}
        for qualname, value in rows:
            facts = json.loads(value)
            cls = qualname.rpartition(".")[0]
            self.accessors.setdefault((cls, facts["name"]), {})[facts["role"]] = qualname
        self.names = {name for _, name in self.accessors}

    @classmethod
    def read(cls, con, params: dict, linker: Linker) -> Properties:
        return cls(linker, con.sql(PROPERTIES_SQL, params=params).fetchall())

    def callees(self, refs: list[dict]) -> list[Callee]:
        """The accessors and dunders `refs` reach (other `extra` kinds are skipped)."""
        out: dict = {}
        for r in refs:
            if r["extra"].startswith("dunder:"):
                for got in self.dunder(r):
                    out.setdefault(got.goid, got)
                continue
            for receiver, name, role in self.accesses([r]):
                for value in self._values(receiver):
                    got = self.edge(value.qualname, name, role)
                    if got is not None:
                        out.setdefault(got.goid, got)
        return list(out.values())

    def accesses(self, refs: list[dict]) -> Iterator[tuple[dict, str, str]]:
        """(the receiver's reference, property name, role) of each reference in `refs` that
        reads, assigns or deletes `C().name` for a name some repository class has a property
        of."""
        for r in refs:
            role = ROLES.get(r.get("extra"))
            prefix, _, name = r["attr"].rpartition(".")
            if role is not None and name in self.names:
                yield {**r, "attr": prefix}, name, role

    def edge(self, cls: str, name: str, role: str) -> Callee | None:
        """The implicit edge to the `role` accessor of `name` on an instance of `cls`, None
        when its MRO gives no repository accessor."""
        target = self.accessor(cls, name, role)
        if target is None or target not in self.linker.defs:
            return None
        return Callee(self.linker.defs[target][0], target, "property", implicit=True)

    def _values(self, r: dict) -> list:
        """The instances `r` may stand for: several through a type alias of a union
        (`x: LN` with `LN = Union[Leaf, Node]`) when the linker follows points-to sets."""
        values = getattr(self.linker, "values", None)
        found = values(r) if values is not None else [self.linker.ref(r)]
        return [v for v in found if v.kind == "instance"]

    def dunder(self, r: dict) -> list[Callee]:
        """Per instance the reference may stand for, the first of its dunders that
        instance's class defines."""
        out = []
        for value in self._values(r):
            for name in r["extra"][len("dunder:"):].split(","):
                got = self.linker.member(value, name)
                if got.kind in ("function", "method"):
                    out.append(Callee(self.linker.defs[got.qualname][0], got.qualname,
                                      "operator", implicit=True))
                    break
                if got.kind != "unknown":  # an attribute, or a base outside the repository
                    break
        return out

    def accessor(self, cls: str, name: str, role: str) -> str | None:
        """The `role` accessor of `name` on an instance of `cls`: the first class of its MRO
        defining `name` decides (a plain attribute or method there: none)."""
        for c in self.linker.mro(cls):
            found = self.accessors.get((c, name))
            if found is not None:
                return found.get(role)
            if f"{c}.{name}" in self.linker.defs:
                return None
        return None
