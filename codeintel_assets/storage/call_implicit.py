"""Implicit calls of attribute accesses and operators, for storage/callgraph.py (the
references extract/implicit_calls.py marks `extra`):

- property | property_set | property_del: `C().attr` reaches the getter, setter or deleter
  of the first class along C's MRO that defines `attr`, when that definition is a property
  (core.definition_refs rows of kind property); resolved_via 'property';
- `dunder:<names>`: on an instance of C, the first of the dunders C's MRO defines in the
  repository (a base outside the repository defining it, or none: no edge); resolved_via
  'operator';
- property reads pyright types (`scip_reads`): a SCIP occurrence (not a definition) of the
  symbol of an in-repo property getter, `leaf.prefix` with `leaf` a loop variable pyright
  knows to be a Leaf, becomes a statement site of its own (caller: the innermost definition
  whose lines hold it; position: the attribute name's start) with the reference `C().name`
  marked `typed` scip, so the getter C's MRO gives and (storage/call_dispatch.py) the
  overrides in C's subclasses are reached. scip-python records reads only (no occurrence for
  `x.name = v` or `del x.name`), and one class for a union (`x: Leaf | Node` names Leaf's).
  A read the file's own rows already hold as a property access (an operand the file types)
  is left to them;
- a call of a class (`Leaf(...)`, `cls()`, a class reached through a value) runs its
  `__new__` before its `__init__`: the `__new__` C's MRO defines in the repository
  (`Properties.allocators`); resolved_via 'constructor_new'; a class without an in-repo
  `__init__` (a dataclass) runs its `__post_init__` (constructor_post_init). From the site's
  own references (the class they evaluate to, storage/call_points.py), not SCIP.

Edges of kind 'implicit' at the expression's line. No DuckDB beyond `read` and `scip_reads`.
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
# Reads of property getters SCIP resolved: (file, line, column, getter, innermost definition
# holding the line). Few rows (reads of properties only), so a range join on lines is cheap.
SCIP_READS_SQL = """
WITH getters AS (
    SELECT DISTINCT sy.symbol, g.qualname
    FROM core.scip_symbols sy
    JOIN core.goids g ON g.repo = sy.repo AND g.rel_path = sy.def_rel_path
                     AND g.name_line = sy.def_line AND g.name_col = sy.def_col
    JOIN core.definition_refs d ON d.repo = g.repo AND d.rel_path = g.rel_path
                               AND d.qualname = g.qualname AND d.kind = 'property'
    WHERE sy.repo = $repo AND NOT coalesce(sy.is_local, false)
), reads AS (
    SELECT o.rel_path, o."commit", o.start_line, o.start_col, min(gt.qualname) AS getter
    FROM core.scip_occurrences o JOIN getters gt USING (symbol)
    -- a setter's name token is an occurrence of its getter's symbol: a definition, no read
    ANTI JOIN core.goids n ON n.repo = o.repo AND n.rel_path = o.rel_path
                          AND n.name_line = o.start_line AND n.name_col = o.start_col
    WHERE o.repo = $repo AND NOT o.is_definition
    GROUP BY ALL
)
SELECT r.rel_path, r.start_line AS line, r.start_col AS col, r."commit", r.getter,
       arg_min(g.qualname, (g.end_line - g.name_line, -g.name_line, g.qualname))
           AS caller_qualname
FROM reads r
JOIN core.goids g ON g.repo = $repo AND g.rel_path = r.rel_path
                 AND r.start_line BETWEEN g.name_line AND g.end_line
                 AND g."commit" = r."commit"  -- an index of another snapshot: positions moved
GROUP BY ALL
ORDER BY r.rel_path, r.start_line, r.start_col
"""
ROLES = {"property": "getter", "property_set": "setter", "property_del": "deleter"}


def scip_reads(con, params: dict, sites: list[dict]) -> list[dict]:
    """Statement sites (storage/callgraph.py's site rows) of the property reads SCIP names
    (the module docstring), but those at a line where one of `sites` already reads a property
    of that name, and those on a decorator's line (`@name.setter`)."""
    covered = set()
    for site in sites:
        if site["is_decorator"]:  # `@name.setter` names the getter: no read at runtime
            covered.add((site["rel_path"], site["line"], None))
        elif site["callee_name"].startswith("implicit ") and '"property"' in site["refs"]:
            for r in json.loads(site["refs"]):
                if r.get("extra") == "property":
                    covered.add((site["rel_path"], site["line"], r["attr"].rpartition(".")[2]))
    out = []
    for path, line, col, commit, getter, caller in con.sql(SCIP_READS_SQL,
                                                            params=params).fetchall():
        cls, _, name = getter.partition("#")[0].rpartition(".")
        if (path, line, name) in covered or (path, line, None) in covered:
            continue
        ref = {"ref": cls, "mode": "value", "attr": f"().{name}", "via": "implicit",
               "exact": True, "typed": "scip", "extra": "property"}
        out.append({"rel_path": path, "line": line, "col": col, "commit": commit,
                    "caller_qualname": caller, "callee_name": f"implicit .{name}",
                    "is_decorator": False, "refs": json.dumps([ref]), "args": "[]",
                    "scip_symbol": None, "scip_goid": None, "scip_external": None})
    return out


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
        """The accessors and dunders the `extra` references of `refs` reach (other `extra`
        kinds are skipped), and the `__new__` of each class the others call (`allocators`)."""
        out: dict = {}
        for r in refs:
            if not r.get("extra"):
                continue
            if r["extra"].startswith("dunder:"):
                for got in self.dunder(r):
                    out.setdefault(got.goid, got)
                continue
            for receiver, name, role in self.accesses([r]):
                for value in self._values(receiver):
                    got = self.edge(value.qualname, name, role)
                    if got is not None:
                        out.setdefault(got.goid, got)
        return list(out.values()) + self.allocators([r for r in refs if not r.get("extra")])

    def allocators(self, refs: list[dict]) -> list[Callee]:
        """The in-repo `__new__` each class the call site's callee references (`refs`, none
        `extra`) may evaluate to runs when called; [] for anything else."""
        out: dict = {}
        for r in refs:
            for value in self._values(r, kinds=("class",)):
                # a generated __init__ (a dataclass: no in-repo __init__) runs __post_init__
                names = ["__new__"] + (["__post_init__"] if self.linker.member(
                    value, "__init__").kind not in ("function", "method") else [])
                for name in names:
                    got = self.linker.member(value, name)
                    if got.kind in ("function", "method") and got.qualname in self.linker.defs:
                        goid = self.linker.defs[got.qualname][0]
                        out.setdefault(goid, Callee(goid, got.qualname, f"constructor_{name[2:-2]}",
                                                    implicit=True))
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

    def _values(self, r: dict, kinds: tuple[str, ...] = ("instance",)) -> list:
        """The instances (or other `kinds` of value) `r` may stand for: several through a
        type alias of a union (`x: LN` with `LN = Union[Leaf, Node]`) when the linker follows
        points-to sets."""
        values = getattr(self.linker, "values", None)
        found = values(r) if values is not None else [self.linker.ref(r)]
        return [v for v in found if v.kind in kinds]

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
