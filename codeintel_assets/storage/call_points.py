"""Points-to sets of references for the call graph: every value a reference may stand for,
where storage/call_linker.py's Linker.ref keeps one. No DuckDB.

Two things make a reference stand for several values:
- a name a module or class body defines in several branches (`if FANCY: def box()` /
  `else: def box()`): the definitions extract/call_branches.py found live, stored as the
  name's alias row (core.definition_refs, kind alias, the name's plain qualname, exact
  references); a version check decides a branch, so a dead definition is never a callee;
- a call of a function that returns one of several functions or classes (`return self.a if c
  else self.b`): each, minus those whose return_refs `when` conditions the call's constant
  arguments contradict (`formatter_for("json")` returns as_json only).
"""

from __future__ import annotations

from codeintel_assets.storage.call_linker import (
    _MAX_DEPTH,
    _SEGMENT,
    UNKNOWN,
    Linker,
    Value,
)

_MAX_VALUES = 16  # values followed per reference (more is a dispatch table, not a branch)


class FlowLinker(Linker):
    """A Linker whose `values` follows branches and several returns (see the module)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (function, its call's constant arguments) -> what it returns: shared sub-answers
        self._returned_by: dict[tuple, list[Value]] = {}
        self._subclasses: dict[str, list[str]] | None = None  # class -> classes below it

    def values(self, r: dict, depth: int = 0) -> list[Value]:
        """Every value reference `r` may evaluate to ([UNKNOWN] when none is known)."""
        if r["mode"] not in ("value", "super") or depth > _MAX_DEPTH:
            return [self.ref(r, depth)]
        exact, attr, offset = r.get("exact", False), r["attr"], 0
        start = self.dotted(r["ref"], depth, exact)
        if r["mode"] == "super":
            first = _SEGMENT.match(attr)
            if first is None or not first.group(1) or start.kind != "class":
                return [self.ref(r, depth)]
            found = self._super(start.qualname, first.group(1))
            attr, offset = attr[first.end():], first.end()
        elif start.kind == "unknown" and r["ref"] in self.aliases:
            found = self._alias_values(r["ref"], depth)  # `LN = Union[Leaf, Node]`: each
        else:
            found = [start] if exact else self._branches(start, depth)
        consts = {at - offset: args for at, args in r.get("consts", ())}
        for m in _SEGMENT.finditer(attr):
            step: list[Value] = []
            for value in found:
                if value.kind == "unknown":
                    continue
                if m.group(1):
                    step += self._branches(self.member(value, m.group(1), depth), depth)
                else:
                    step += self._returned(value, consts.get(m.start()), depth)
            found = list(dict.fromkeys(v for v in step if v.kind != "unknown"))[:_MAX_VALUES]
            if not found:
                return [UNKNOWN]
        return found or [UNKNOWN]

    def _alias_values(self, qualname: str, depth: int) -> list[Value]:
        """Every value a module- or class-level assignment may bind, where Linker._alias
        keeps one candidate only (a type alias of a union names several classes)."""
        got = (self.ref(a, depth + 1) for a in self.aliases[qualname])
        return list(dict.fromkeys(v for v in got if v.kind != "unknown"))[:_MAX_VALUES]

    def _super(self, cls: str, name: str) -> list[Value]:
        """`super().name` in class `cls`: the first definition of `name` after `cls` in the
        MRO of `cls` and of every subclass of it (a mixin's super() reaches the class the
        subclass puts after it: `class Article(TimestampMixin, ValidateMixin, Base)`)."""
        out = []
        for sub in [cls, *self.subclasses().get(cls, ())]:
            mro = self.mro(sub)
            for after in mro[mro.index(cls) + 1:]:
                q = f"{after}.{name}"
                if q in self.defs:
                    out.append(self._def(q))
                    break
        return list(dict.fromkeys(out))[:_MAX_VALUES] or [UNKNOWN]

    def subclasses(self) -> dict[str, list[str]]:
        """In-repo class -> every in-repo class with it in its MRO (itself excluded); built
        once, for super() here and for storage/call_dispatch.py."""
        if self._subclasses is None:
            self._subclasses = {}
            for q, (_, kind) in self.defs.items():
                if kind == "class":
                    for base in self.mro(q)[1:]:
                        self._subclasses.setdefault(base, []).append(q)
        return self._subclasses

    def _branches(self, value: Value, depth: int) -> list[Value]:
        """The definitions a redefined name may be bound to, for the definition Linker
        takes as its binding (the last); else [value]."""
        base = value.qualname.partition("#")[0]
        if self.latest.get(base) != value.qualname or base not in self.aliases:
            return [value]
        live = [self.dotted(a["ref"], depth + 1, True) for a in self.aliases[base]
                if a.get("exact") and not a["attr"]]
        return [v for v in live if v.kind != "unknown"] or [value]

    def _returned(self, value: Value, args: dict | None, depth: int) -> list[Value]:
        """What calling `value` returns: every function or class it may return, under the
        call's constant arguments `args` (position as a string, or keyword)."""
        if value.kind not in ("function", "method") or depth > _MAX_DEPTH:
            return [self.call(value, depth)]
        key = (value.qualname, tuple(sorted((args or {}).items(), key=str)))
        if key not in self._returned_by:
            self._returned_by[key] = []  # a recursion through itself adds nothing
            self._returned_by[key] = self._returns_under(value, args, depth)
        return self._returned_by[key]

    def _returns_under(self, value: Value, args: dict | None, depth: int) -> list[Value]:
        params = self.params(value.qualname)
        shift = 1 if value.kind == "method" and params[:1] in (["self"], ["cls"]) else 0
        out: list[Value] = []
        for r in self._returns(value.qualname):
            if args and not all(_holds(g, args, shift) for g in r.get("when", ())):
                continue
            out += self.values(r, depth + 1)
        return [v for v in out if v.kind != "unknown"] or [UNKNOWN]


def _holds(guard: dict, args: dict, shift: int) -> bool:
    """Whether a return's condition may hold for a call's constant arguments (an argument
    that is not a constant may be anything)."""
    index = guard.get("index")
    key = str(index - shift) if index is not None and str(index - shift) in args \
        else guard["param"]
    if key not in args:
        return True
    return args[key] == guard["eq"] if "eq" in guard else args[key] != guard["ne"]
