"""Calls an attribute access makes, for extract/calls.py (FileCalls): reading a property runs
its getter, assigning it its setter, `del` its deleter (`property`, `functools.cached_property`,
`@name.setter`/`.deleter`/`.getter`).

Two halves, as for every call: the file says which defs are property accessors (core.
definition_refs rows of kind `property`, value_refs `{"name": ..., "role": getter | setter |
deleter}`), and which attribute accesses may be property accesses: `name.attr` not called,
whose `name` the file knows to be an instance (self, an annotated or isinstance-narrowed name,
`x = C()`: extract/receiver_types.py). Those become core.call_sites rows, one per caller and
line, whose references are `C().attr` marked `extra` = property | property_set |
property_del; storage/call_properties.py keeps those that reach an accessor of the class's
MRO (an attribute that is no property reaches nothing and leaves no edge).
"""

from __future__ import annotations

import ast
import json

from codeintel_assets.extract.bindings import Scope, extend
from codeintel_assets.extract.pysource import dotted_name

_GETTERS = frozenset({"property", "cached_property", "abstractproperty"})
_ROLES = {"setter": "setter", "deleter": "deleter", "getter": "getter"}
EXTRA = {ast.Load: "property", ast.Store: "property_set", ast.Del: "property_del"}


def accessor_role(node: ast.AST) -> str | None:
    """getter | setter | deleter when def `node` is a property accessor, else None."""
    for dec in getattr(node, "decorator_list", ()):
        name = dotted_name(dec.func if isinstance(dec, ast.Call) else dec) or ""
        head, _, last = name.rpartition(".")
        if last in _GETTERS:
            return "getter"
        if head and last in _ROLES:
            return _ROLES[last]
    return None


def property_rows(defs: list[tuple[ast.AST, Scope]]) -> list[dict]:
    """core.definition_refs rows (kind property) of the file's accessor defs in classes."""
    out = []
    for node, inner in defs:
        if inner.kind == "method" and not isinstance(node, ast.ClassDef):
            role = accessor_role(node)
            if role is not None:
                out.append({"qualname": inner.qualname, "kind": "property",
                            "value_refs": json.dumps({"name": node.name, "role": role})})
    return out


def access_rows(calls) -> list[dict]:
    """core.call_sites rows of the file's attribute accesses on known instances (the module
    docstring), one per caller and line, at the first access's end."""
    called = {id(node.func) for node, _, is_decorator, _ in calls.calls if not is_decorator}
    by_line: dict[tuple[str, int], tuple[ast.Attribute, Scope, list[dict], list[str]]] = {}
    for node, scope in calls.attributes:
        if id(node) in called:
            continue
        refs = [extend(r, f".{node.attr}", "property")
                for r in calls.refs(node.value, scope) or ()
                if r["mode"] == "value" and r["attr"].endswith("()")]
        if not refs:
            continue
        extra = EXTRA.get(type(node.ctx), "property")
        key = (scope.qualname, node.end_lineno)
        first = by_line.setdefault(key, (node, scope, [], []))
        first[2].extend({**r, "extra": extra} for r in refs)
        first[3].append(f"{node.value.id}.{node.attr}")
    rows = []
    for node, scope, refs, names in by_line.values():
        rows.append({
            "line": node.end_lineno, "col": node.end_col_offset, "module": calls.module,
            "caller_qualname": scope.qualname,
            "callee_name": ("attribute " + ", ".join(dict.fromkeys(names)))[:200],
            "name_line": None, "name_col": None, "is_decorator": False,
            "refs": json.dumps(list({(r["ref"], r["attr"], r["extra"]): r for r in refs}.values())),
            "args": "[]"})
    return rows
