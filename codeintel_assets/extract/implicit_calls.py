"""Calls no ast.Call makes, on operands the file knows to be instances, for extract/calls.py
(FileCalls inherits ImplicitCalls): property accessors and the dunders of operators,
truthiness, subscripts, f-strings and the builtins that call them.

Two halves, as for every call: the file says which defs are property accessors (core.
definition_refs rows of kind `property`, value_refs `{"name": ..., "role": getter | setter |
deleter}`: `property`, `functools.cached_property`, `@name.setter`/`.deleter`/`.getter`), and
which expressions may make such calls: an operand that is a name or `name.attr` the file knows
to be an instance (self, an annotated or isinstance-narrowed name, `x = C()`:
extract/receiver_types.py). Those become references `C()` + a step, marked `extra`:

- `property` | `property_set` | `property_del`: `name.attr` read (not called), assigned,
  deleted (an augmented assignment `name.attr += v` reads and assigns); the reference is
  `C().attr`;
  `getattr(x, "attr"[, default])` and `hasattr(x, "attr")` read `x.attr` too, `setattr(x,
  "attr", v)` assigns and `delattr(x, "attr")` deletes it (a constant name; the row is the
  builtin's call site);
- `dunder:<names>`: the reference is the operand `C()`, `names` the dunders tried in order
  (the first the class's MRO defines runs): `a + b` -> `__add__` of a, `x in c` ->
  `__contains__,__iter__` of c, `if x`/`not x`/`and`/`or` -> `__bool__,__len__`, `x[k]` ->
  `__getitem__` (assigned: `__setitem__`, deleted: `__delitem__`), `f"{x}"` ->
  `__format__,__str__` (`!r`: `__repr__`), `len(x)` -> `__len__`, `str(x)` ->
  `__str__,__repr__`...

Statement rows hold them, one per caller and line, at the end of the line's first such
expression; storage/call_implicit.py resolves them (a name that is no property, a dunder no
in-repo class defines: no edge).
"""

from __future__ import annotations

import ast
import json

from codeintel_assets.extract.bindings import (
    BINDING_TYPES,
    Scope,
    ScopeBindings,
    extend,
)
from codeintel_assets.extract.call_values import INSTANCE_ATTR
from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.param_defaults import Defaults
from codeintel_assets.extract.pysource import dotted_name
from codeintel_assets.extract.receiver_types import bind_attribute_type, narrow

_GETTERS = frozenset({"property", "cached_property", "abstractproperty"})
_ROLES = {"setter": "setter", "deleter": "deleter", "getter": "getter"}
_ACCESS = {ast.Load: "property", ast.Store: "property_set", ast.Del: "property_del"}
_ITEM = {ast.Load: "__getitem__", ast.Store: "__setitem__", ast.Del: "__delitem__"}
_TRUTH = "__bool__,__len__"
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
           ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
           ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "lshift",
           ast.RShift: "rshift"}
_COMPARE = {ast.Eq: "__eq__", ast.NotEq: "__ne__,__eq__", ast.Lt: "__lt__", ast.LtE: "__le__",
            ast.Gt: "__gt__", ast.GtE: "__ge__"}
_UNARY = {ast.Not: _TRUTH, ast.USub: "__neg__", ast.UAdd: "__pos__", ast.Invert: "__invert__"}
# Builtins that call a dunder of their first argument.
BUILTIN_DUNDERS = {"len": "__len__", "str": "__str__,__repr__", "repr": "__repr__",
                   "bool": _TRUTH, "format": "__format__,__str__", "abs": "__abs__",
                   "hash": "__hash__", "int": "__int__", "float": "__float__",
                   "reversed": "__reversed__,__len__", "list": "__iter__", "tuple": "__iter__",
                   "sorted": "__iter__", "set": "__iter__", "dict": "__iter__"}
# Builtins that access an attribute named by their second argument: the access they make.
_ATTR_BUILTINS = {"getattr": "property", "hasattr": "property", "setattr": "property_set",
                  "delattr": "property_del"}


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
                            "value_refs": json_text({"name": node.name, "role": role})})
    return out


# Operations an operand may chain on its name (`a + b + c` is 2): resolving one costs a
# calls.refs depth per operation, and past calls._MAX_DEPTH (8, less the lookup's own levels)
# it fails, so a longer chain is no operand. The walk stops there: `a + a + ... + a` in 2000
# terms is a 2000-deep tree, visited once per BinOp.
_MAX_OPERATIONS = 4


def _simple(expr) -> bool:
    """A name, `name.attr` or an operation on one (at most _MAX_OPERATIONS deep): the
    operands worth resolving (cheap, cached bindings)."""
    for _ in range(_MAX_OPERATIONS + 1):
        kind = type(expr)
        if kind is not ast.BinOp:
            return kind is ast.Name or (kind is ast.Attribute and type(expr.value) is ast.Name)
        expr = expr.left
    return False


def _operand(expr) -> bool:
    """`_simple`, or an item of one (`LL[i]`), or a call of one (`Line(mode=m)`, `f(x)`):
    the operands of comparisons and of the builtins that call a dunder."""
    kind = type(expr)
    if kind is ast.Subscript:
        return _simple(expr.value)
    if kind is ast.Call:
        return _simple(expr.func)
    return _simple(expr)


def operator_refs(calls, expr: ast.expr, scope: Scope, depth: int) -> list[dict]:
    """What `a + b` evaluates to when `a` is an instance: what its `__add__` returns."""
    if type(expr) is not ast.BinOp or type(expr.op) not in _BINOPS or not _simple(expr.left):
        return []
    dunder = f".__{_BINOPS[type(expr.op)]}__()"
    return [extend(r, dunder, "returned_value") for r in calls.refs(expr.left, scope, depth + 1)
            or () if r["mode"] == "value" and r["attr"].endswith("()")]


class ImplicitCalls(ScopeBindings):
    """Collects, while the walk visits, the expressions that may call implicitly:
    (position node, scope, operand, step appended to the operand's references, extra)."""

    # Node types besides bindings.BINDING_TYPES this pass needs visited.
    VISITED = (ast.Attribute, ast.BinOp, ast.Compare, ast.UnaryOp, ast.BoolOp, ast.Subscript,
               ast.FormattedValue, ast.IfExp, ast.While, ast.If, ast.Assert)

    def __init__(self, module: str, is_package: bool):
        super().__init__(module, is_package)
        self.implicit: list[tuple[ast.expr, Scope, ast.expr, str, str]] = []
        self.defaults = Defaults()  # parameters' defaults, `if p is None: p = C` (C)

    def visit(self, v) -> None:
        node, kind = v.node, type(v.node)
        if kind not in _IMPLICIT_TYPES:
            if kind is ast.Assign and self.defaults.take(node, self.scopes.get(v.scope.qualname,
                                                                             self.root)):
                return  # no binding: the parameter's default
            super().visit(v)
            if kind is ast.AugAssign and type(node.target) is ast.Attribute \
                    and type(node.target.value) is ast.Name:  # `x.p += 1` reads p, then sets
                self.implicit.append((node.target, self.scopes.get(v.scope.qualname, self.root),
                                      node.target.value, f".{node.target.attr}", "property"))
            if kind is ast.AnnAssign:  # `x: T` in a class, `self.x: T`: the attribute's type
                bind_attribute_type(node, self.scopes.get(v.scope.qualname, self.root))
            if kind is not ast.Call:
                return
        scope = self.scopes.get(v.scope.qualname, self.root)
        if kind in (ast.If, ast.Assert):  # isinstance narrows a name in the body
            narrow(self, node, scope)
        if kind is ast.If:
            self.defaults.note_if(self, node, scope)
        add = self.implicit.append
        if kind is ast.Attribute:
            value = node.value
            if _simple(value) or (type(value) is ast.Subscript and _simple(value.value)):
                # `x.p`, `self.parent.p`, `node.children[1].p`
                add((node, scope, node.value, f".{node.attr}", _ACCESS[type(node.ctx)]))
        elif kind is ast.BinOp and _simple(node.left) and type(node.op) in _BINOPS:
            add((node, scope, node.left, "", f"dunder:__{_BINOPS[type(node.op)]}__"))
        elif kind is ast.Compare:
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                if type(op) in (ast.In, ast.NotIn) and _operand(right):
                    add((node, scope, right, "", "dunder:__contains__,__iter__"))
                elif type(op) in _COMPARE and _operand(left):
                    add((node, scope, left, "", f"dunder:{_COMPARE[type(op)]}"))
                left = right
        elif kind is ast.UnaryOp and _simple(node.operand) and type(node.op) in _UNARY:
            add((node, scope, node.operand, "", f"dunder:{_UNARY[type(node.op)]}"))
        elif kind is ast.BoolOp:
            for value in node.values[:-1]:  # the last is returned, not tested
                if _simple(value):
                    add((value, scope, value, "", f"dunder:{_TRUTH}"))
        elif kind is ast.Subscript and _simple(node.value):
            add((node, scope, node.value, "", f"dunder:{_ITEM[type(node.ctx)]}"))
        elif kind is ast.FormattedValue and _simple(node.value):
            dunders = {114: "__repr__", 115: "__str__"}.get(node.conversion, "__format__,__str__")
            add((node.value, scope, node.value, "", f"dunder:{dunders}"))
        elif kind in (ast.If, ast.While, ast.IfExp, ast.Assert) and _simple(node.test):
            add((node.test, scope, node.test, "", f"dunder:{_TRUTH}"))
        elif kind is ast.Call and type(node.func) is ast.Name and node.args \
                and node.func.id in BUILTIN_DUNDERS and _operand(node.args[0]):
            add((node.func, scope, node.args[0], "", f"dunder:{BUILTIN_DUNDERS[node.func.id]}"))
        elif kind is ast.Call and type(node.func) is ast.Name and len(node.args) >= 2 \
                and node.func.id in _ATTR_BUILTINS and type(node.args[1]) is ast.Constant \
                and isinstance(node.args[1].value, str) and _simple(node.args[0]) \
                and self.bindings_of(node.func.id, scope) is None:
            # getattr(x, "meta", {}): x.meta; the position is the builtin's own call site
            add((node.func, scope, node.args[0], f".{node.args[1].value}",
                 _ATTR_BUILTINS[node.func.id]))

    def implicit_rows(self) -> list[dict]:
        """core.call_sites rows of the collected expressions whose operand is an instance
        (the module docstring), one per caller and line."""
        called = {id(node.func) for node, _, is_decorator, _ in self.calls if not is_decorator}
        by_line: dict[tuple[str, int], tuple[ast.expr, Scope, dict, list[str]]] = {}
        for node, scope, operand, step, extra in self.implicit:
            if id(operand) in called or (extra.startswith("property") and id(node) in called
                                         and type(node) is ast.Attribute):
                continue  # `x.m()` calls m: no property; `x.f(...)` is no operand
            # an instance, an attribute of one (`x in line.mode`, `tree.root.depth`: storage
            # types it by the alias row of Line.mode), an item of a container storage knows
            refs = [r for r in self.refs(operand, scope) or () if r["mode"] == "value"
                    and (r["attr"].endswith(("()", "]")) or INSTANCE_ATTR.search(r["attr"]))]
            if not refs:
                continue
            key = (scope.qualname, node.end_lineno)
            first = by_line.setdefault(key, (node, scope, {}, []))
            for r in refs:
                got = {**extend(r, step, "implicit"), "extra": extra}
                first[2].setdefault((got["ref"], got["attr"], extra), got)
            first[3].append(dotted_name(operand) or type(node).__name__)
        return [{"line": node.end_lineno, "col": node.end_col_offset, "module": self.module,
                 "caller_qualname": scope.qualname,
                 "callee_name": ("implicit " + ", ".join(dict.fromkeys(names)))[:200],
                 "name_line": None, "name_col": None, "is_decorator": False,
                 "refs": json_text(list(refs.values())), "args": "[]"}
                for node, scope, refs, names in by_line.values()]


def merged(rows: list[dict]) -> list[dict]:
    """`rows` with those at one (line, col) made one (core.call_sites' key): the first row's
    fields, every row's references (`extra` ones are implicit callees of the site: `len(x)`
    is a call of len and of x's __len__, `h[k](x)` of __getitem__ and of the item)."""
    first: dict[tuple[int, int], dict] = {}
    for row in rows:
        at = (row["line"], row["col"])
        if at not in first:
            first[at] = row
        else:
            kept = first[at]
            kept["refs"] = json_text(json.loads(kept["refs"]) + json.loads(row["refs"]))
    return list(first.values())


_IMPLICIT_TYPES = frozenset(ImplicitCalls.VISITED)
# Every node type FileCalls.visit needs (callers walking a tree test it first).
VISITED_TYPES = _IMPLICIT_TYPES | BINDING_TYPES
