"""Receiver types as abstract values, for extract/calls.py (FileCalls): the instances an
annotated or `isinstance`-narrowed name stands for, as references the call graph follows.

A reference to an instance of class `C` is `C`'s reference with `()` appended (what `C()`
evaluates to), so `self`, `x = C()`, `x: C` and `isinstance(x, C)` all give `recv.m` the
reference `C().m`; storage/call_dispatch.py then adds the overrides of `m` in C's subclasses.
References made here carry `typed`: how the type was known (annotation | isinstance), which
the dispatch edge's resolved_via reports. Rules and the facts they use:

- annotation: a parameter's or variable's annotation (`p: Param`, `x: "Cmd"`, unions `A | B`,
  `Optional[A]`, `Union[A, B]`); the elements of a container annotation (`list[A]`,
  `Sequence[A]`, `dict[str, A]`'s values...) for a loop over it. The file's own ast only.
- return annotation: a def whose returns name no function, class or container item the
  call graph follows returns instances of its declared return type (`-> Line`); every def
  holds the items of its declared container (`-> Iterator[Line]`: `for line in f()`);
  `declared_returns`.
- alias: a module's `LN = Union[Leaf, Node]` (or `A | B`, `Optional[A]`) is an alias row of
  those classes (extract/call_definitions.py), so `x: LN` follows it like any alias.
- attribute: `x: T` in a class body (with or without a value: a dataclass field, `parent:
  Optional[Node] = None`) and `self.x: T` in a method type the instance attribute x (the
  class's self_attrs, which `self.x.m()` in the file reads); the alias row `C.x` of the
  class's attributes (call_definitions.attribute_rows: declared types, else the instances
  assigned, `self.x = D(...)`) types `obj.x` in other files.
- cast: `typing.cast(T, v)` evaluates to v, which the code declares a T: the instances of T
  when T names classes (`t.cast("Context", _local.stack[-1])` returned: the callers get a
  Context), else v's references (`cls = t.cast(Type[C], Command)`: Command); `cast_refs`.
- isinstance: `if isinstance(x, C):` (and `elif`) narrows `x` to C (or each class of a tuple)
  on the lines of its body; `assert isinstance(x, C)` from the assert to the scope's end
  (extract/bindings.py binds the narrowed name).
"""

from __future__ import annotations

import ast

from codeintel_assets.extract.bindings import Binding, Scope, extend, first_param
from codeintel_assets.extract.pysource import dotted_name, unquote_annotation

_UNIONS = frozenset({"Optional", "Union"})
# Generic containers whose last type argument is the type of what iterating them gives
# (dict-like ones iterate keys, but `.values()`/items loops are what holds instances).
_CONTAINERS = frozenset({"list", "List", "set", "Set", "frozenset", "FrozenSet", "tuple",
                         "Tuple", "Sequence", "MutableSequence", "Iterable", "Iterator",
                         "Collection", "AbstractSet", "MutableSet", "Generator", "deque",
                         "Deque", "AsyncIterator", "AsyncIterable", "AsyncGenerator"})
_GENERATORS = frozenset({"Generator", "AsyncGenerator"})  # [yield, send(, return)]


def _last(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1]


def class_exprs(annotation: ast.expr) -> list[ast.expr]:
    """The class expressions an annotation names as the value's type (unions split; None,
    literals and generic containers name none)."""
    expr = unquote_annotation(annotation)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return class_exprs(expr.left) + class_exprs(expr.right)
    if isinstance(expr, ast.Subscript):
        if _last(dotted_name(expr.value)) in _UNIONS:
            inner = expr.slice
            return [c for e in (inner.elts if isinstance(inner, ast.Tuple) else [inner])
                    for c in class_exprs(e)]
        return []
    if isinstance(expr, (ast.Name, ast.Attribute)) and dotted_name(expr) not in ("None",):
        return [expr]
    if isinstance(expr, ast.Tuple):  # isinstance(x, (A, B))
        return [c for e in expr.elts for c in class_exprs(e)]
    return []


def instances(calls, tag: str, expr: ast.expr, scope: Scope, depth: int) -> list[dict]:
    """References of the instances `expr` types (tag annotation: an annotation; isinstance:
    the second argument of isinstance), each marked `typed` = tag."""
    out = []
    for cls in class_exprs(expr):
        if union := _union_alias(calls, cls, scope):  # `LN = Union[Leaf, Node]` here: each
            out += instances(calls, tag, union, scope, depth + 1)
            continue
        out += [{**extend(r, "()", "instance_method"), "typed": tag}
                for r in calls.refs(cls, scope, depth) or ()
                if r["mode"] == "value" and "()" not in r["attr"]]
    return out


def _union_alias(calls, cls: ast.expr, scope: Scope) -> ast.expr | None:
    """The union a name is bound to in this file (`LN = Union[Leaf, Node]`, `NL = A | B`),
    when that is its only binding; else None (alias_classes covers an imported alias)."""
    if not isinstance(cls, ast.Name):
        return None
    bindings = calls.bindings_of(cls.id, scope) or ()
    if len(bindings) != 1 or not isinstance(bindings[0].value, ast.expr):
        return None
    value = bindings[0].value
    return value if _is_union(value) else None


def _is_union(value: ast.expr) -> bool:
    return (isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr)) or (
        isinstance(value, ast.Subscript) and _last(dotted_name(value.value)) in _UNIONS)


def alias_classes(calls, value: ast.expr, scope: Scope) -> list[dict]:
    """References of the classes a type alias names (`LN = Union[Leaf, Node]`, `NL = A | B`,
    `M = Optional[A]`), so an annotation `x: LN` (in this module or one importing LN) types x
    as each of them; [] for any other value (a plain name is already its own reference)."""
    if not _is_union(value):
        return []
    return [r for cls in class_exprs(value) for r in calls.refs(cls, scope) or ()
            if r["mode"] == "value" and "()" not in r["attr"]]


def element_instances(calls, container: ast.expr, scope: Scope, depth: int) -> list[dict]:
    """References of the items of a name annotated as a generic container (`xs: list[A]`:
    instances of A), or of the file's class's attribute so annotated (`self.leaves` with
    `leaves: list[Leaf]` in the class body); [] when it has no such annotation."""
    if isinstance(container, ast.Name):
        bindings = calls.bindings_of(container.id, scope, container.lineno) or ()
    elif isinstance(container, ast.Attribute) and isinstance(container.value, ast.Name):
        bindings = [b for r in calls.refs(container.value, scope, depth + 1) or ()
                    if r["mode"] == "value" and r["attr"] == "()"
                    and r["ref"] in calls.scopes and calls.scopes[r["ref"]].kind == "class"
                    for b in calls.scopes[r["ref"]].self_attrs.get(container.attr, ())]
    else:
        return []
    return [r for b in bindings if isinstance(b.value, tuple) and b.value[0] == "annotation"
            for r in annotation_elements(calls, b.value[1], b.value[2], depth)]


def annotation_elements(calls, annotation: ast.expr, scope: Scope, depth: int) -> list[dict]:
    """Instances of the element type of a generic container annotation (`list[A]`,
    `Sequence[A] | None`, `dict[str, A]`: A's); [] for any other annotation."""
    out = []
    for part in class_exprs_or_generic(unquote_annotation(annotation)):
        if isinstance(part, ast.Subscript) and _last(dotted_name(part.value)) in _CONTAINERS:
            inner = part.slice
            elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            elts = [e for e in elts if not (isinstance(e, ast.Constant)
                                            and e.value is Ellipsis)]
            if elts:  # a generator yields its first argument; the others hold their last
                at = 0 if _last(dotted_name(part.value)) in _GENERATORS else -1
                out += instances(calls, "annotation", elts[at], scope, depth + 1)
    return out


def declared_returns(calls, annotation: ast.expr, scope: Scope
                     ) -> tuple[list[dict], list[dict]]:
    """return_refs of a def's return annotation: (instances of the declared type, the items
    of a declared container or generator marked `item` None)."""
    return instances(calls, "annotation", annotation, scope, 1), [
        {**r, "item": None} for r in annotation_elements(calls, annotation, scope, 1)]


def class_exprs_or_generic(expr: ast.expr) -> list[ast.expr]:
    """The parts of a union annotation (`list[A] | None`: `list[A]`), unsplit otherwise."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return class_exprs_or_generic(expr.left) + class_exprs_or_generic(expr.right)
    if isinstance(expr, ast.Subscript) and _last(dotted_name(expr.value)) in _UNIONS:
        inner = expr.slice
        return [p for e in (inner.elts if isinstance(inner, ast.Tuple) else [inner])
                for p in class_exprs_or_generic(unquote_annotation(e))]
    return [expr]



_CASTS = frozenset({"typing.cast", "typing_extensions.cast"})


def cast_refs(calls, call: ast.Call, func_refs: list[dict], scope: Scope, depth: int
              ) -> list[dict] | None:
    """References of `cast(T, v)` (the module docstring): T's instances, else v's; None when
    `call` (whose callee's references are `func_refs`) is no call of typing's cast with two
    positional arguments."""
    if len(call.args) != 2 or call.keywords or not any(
            r["mode"] == "value" and r["ref"] + r["attr"] in _CASTS for r in func_refs):
        return None
    return instances(calls, "annotation", call.args[0], scope, depth + 1) or calls.refs(
        call.args[1], scope, depth + 1)


def getattr_refs(calls, call: ast.Call, scope: Scope, depth: int) -> list[dict] | None:
    """`getattr(obj, name[, default])` on an instance `obj`: its attribute `name` (a constant),
    or, for a name built as `"visit_" + x` or `f"visit_{x}"`, the receiver marked `pattern`
    (`visit_*`: storage/call_dispatch.py reaches every method of the receiver's classes whose
    name fits; only with a literal prefix or suffix of 3 identifier characters: `"_" + x`
    is no pattern), plus the default's references. None when `call` is no such getattr."""
    func = call.func
    if not (isinstance(func, ast.Name) and func.id == "getattr" and 2 <= len(call.args) <= 3
            and not call.keywords and calls.bindings_of("getattr", scope) is None):
        return None
    name, pattern = call.args[1], None
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        pattern = name.value
    elif isinstance(name, ast.BinOp) and isinstance(name.op, ast.Add) \
            and isinstance(name.left, ast.Constant) and isinstance(name.left.value, str):
        pattern = name.left.value + "*"
    elif isinstance(name, ast.JoinedStr) and len(name.values) > 1:
        parts = [v.value if isinstance(v, ast.Constant) else "*" for v in name.values]
        pattern = "".join(parts)
    out = []
    if pattern is not None and "*" in pattern and not _specific(pattern):
        pattern = None  # `"_" + k`, f"{kind}_{a}": would reach every private method
    if pattern is not None and pattern.strip("*"):
        for r in calls.refs(call.args[0], scope, depth + 1) or ():
            if r["mode"] == "value" and r["attr"].endswith("()"):
                out.append(extend(r, f".{pattern}", "attribute") if "*" not in pattern
                           else {**r, "via": "getattr_pattern", "pattern": pattern})
    if len(call.args) == 3:
        out += calls.refs(call.args[2], scope, depth + 1) or []
    return out



def _specific(pattern: str) -> bool:
    """Whether a getattr name pattern has a literal prefix or suffix of at least 3 identifier
    characters (`visit_*`, `*_handler`): one that names a family of methods."""
    head, tail = pattern.split("*", 1)[0], pattern.rsplit("*", 1)[-1]
    return any(len(part) >= 3 and part.replace("_", "a").isalnum() for part in (head, tail))


def narrow(calls, node: ast.If | ast.Assert, scope: Scope) -> None:
    """`if isinstance(x, C):` binds x to ("isinstance", C, scope) on its body's lines,
    `assert isinstance(x, C)` from the assert to the scope's end (`instances` reads it)."""
    test = node.test
    if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name)
            and test.func.id == "isinstance" and len(test.args) == 2
            and isinstance(test.args[0], ast.Name) and not test.keywords):
        return
    end = getattr(scope.node, "end_lineno", None) or 10 ** 9
    span = (node.body[0].lineno, node.body[-1].end_lineno) if isinstance(node, ast.If) \
        else (node.lineno, end)
    calls.line = node.lineno  # where the binding happens (ScopeBindings.bind reads it)
    calls.bind(scope, test.args[0].id, ("isinstance", test.args[1], scope), span)


def bind_attribute_type(node: ast.AnnAssign, scope: Scope) -> None:
    """`x: T` in a class body, `self.x: T` in a method: the class's attribute x holds a T
    (an ("annotation", T, scope) binding among its self_attrs)."""
    t = node.target
    if isinstance(t, ast.Name) and scope.kind == "class":
        cls, name = scope, t.id
    elif (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
          and scope.kind == "method" and scope.parent is not None
          and scope.parent.kind == "class" and first_param(scope.node) == t.value.id):
        cls, name = scope.parent, t.attr
    else:
        return
    cls.self_attrs.setdefault(name, []).append(
        Binding(("annotation", node.annotation, scope), scope, node.lineno))


def attribute_refs(calls, bindings: list[Binding]) -> list[dict]:
    """The instances a class attribute holds: those its annotations declare (and, marked
    `item` None, the items of a container it declares), else those assigned to it (`self.x =
    D(...)`, `self.x = x` with `x: D`); [] when neither names one."""
    typed = [b for b in bindings if isinstance(b.value, tuple) and b.value[0] == "annotation"]
    if typed:  # and the items of a container it declares (`children: list[NL]`: any item)
        return [r for b in typed for r in instances(calls, "annotation", b.value[1],
                                                    b.value[2], 1)] + [
            {**r, "item": None} for b in typed
            for r in annotation_elements(calls, b.value[1], b.value[2], 1)]
    # assigned: an annotated parameter (`self.command = command`) or a call of a name
    # (`self.root = Node(...)`); a call through a path (`types.convert_type(t)`) may return
    # one of several values, the linker's single candidate is no type to dispatch on
    return [r for b in bindings if isinstance(b.value, ast.expr)
            for r in calls.refs(b.value, b.scope) or ()
            if r["mode"] == "value" and (r.get("typed") or r["attr"] == "()")]
