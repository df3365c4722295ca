"""Value flow of functions and classes through unpacking and containers, and the calls no
ast.Call makes, for extract/calls.py (FileCalls): the references an unpacked name, a
container's items or one keyed item stand for; the rows of `with`, `for` and `raise X`
statements; the functions a builtin calls back (`sorted(key=f)`, `map(f, xs)`, `next(it)`,
`eval("f()")`).

References added here for calls a statement or builtin makes carry `extra`: the protocol
(with | for | next | raise | callback | eval). storage/callgraph.py resolves them as implicit
callees of the site, next to the site's own callee; a statement's row has only such references.
"""

from __future__ import annotations

import ast
import re

from codeintel_assets.extract import receiver_types
from codeintel_assets.extract.bindings import Scope, dedupe, extend, ref
from codeintel_assets.extract.json_text import json_text

# Builtins that call a function argument: name -> (positional index or None, keyword).
_CALLBACKS = {"sorted": (None, "key"), "min": (None, "key"), "max": (None, "key"),
              "map": (0, None), "filter": (0, None), "list.sort": (None, "key")}
CONTAINERS = (ast.List, ast.Tuple, ast.Dict, ast.Set)
INSTANCE_ATTR = re.compile(r"\(\)\.[A-Za-z_]\w*$")  # `C().name` ending a path: an attribute
_MAX_ITEMS = 64  # items of one container followed (a literal of thousands is data)


_COPIES = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"})


def copied(calls, call: ast.Call, scope: Scope) -> ast.expr | None:
    """The iterable the builtin `list(xs)`, `tuple(xs)`, `sorted(xs, key=...)`, `iter(xs)`...
    copies or iterates (the same items), None for any other call."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in _COPIES and len(call.args) == 1 \
            and not isinstance(call.args[0], ast.Starred) \
            and calls.bindings_of(func.id, scope) is None:
        return call.args[0]
    return None


_LITERAL_TYPES = {ast.Dict: "dict", ast.List: "list", ast.Set: "set", ast.Tuple: "tuple",
                  ast.JoinedStr: "str", ast.DictComp: "dict", ast.ListComp: "list",
                  ast.SetComp: "set"}


def literal_method(calls, expr: ast.Attribute, scope: Scope) -> list[dict]:
    """`"-".join`, `{...}.items`, `counts.items` with `counts` bound only to dict literals:
    the builtin type's method (`builtins.str.join`), an external callee; [] otherwise."""
    value = expr.value
    if isinstance(value, ast.Name):
        bound = calls.bindings_of(value.id, scope, value.lineno) or ()
        kinds = {_literal_type(b.value) for b in bound if isinstance(b.value, ast.expr)}
        kind = kinds.pop() if len(kinds) == 1 and len(bound) == len(
            [b for b in bound if isinstance(b.value, ast.expr)]) else None
    else:
        kind = _literal_type(value)
    return [ref(f"builtins.{kind}.{expr.attr}", "builtin", mode="builtin")] if kind else []


def _literal_type(value) -> str | None:
    if isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes)):
        return type(value.value).__name__
    return _LITERAL_TYPES.get(type(value))


def _literal(calls, expr: ast.expr, scope: Scope, depth: int) -> list[tuple]:
    """(literal, scope) pairs a container expression stands for: the literal itself, the
    literals a name is bound to (all its bindings, flow-insensitive), or none."""
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return [(expr, scope)]
    if isinstance(expr, ast.Name) and depth < 8:
        out = []
        for b in calls.bindings_of(expr.id, scope, expr.lineno) or ():
            if isinstance(b.value, ast.expr):
                out += _literal(calls, b.value, b.scope, depth + 1)
        return out
    return []


def _added(calls, expr: ast.expr, scope: Scope, key) -> list[tuple[ast.expr, Scope]]:
    """Values put into the container `expr` names after its binding (`d[k] = v`,
    `d.update(...)`, `xs.append(v)`): those under `key` (or an unknown key); all when `key` is
    None."""
    if not isinstance(expr, ast.Name):
        return []
    home = calls._binding_scope(expr.id, scope)
    return [(v, s) for name, s, k, v in calls.adds
            if name == expr.id and calls._binding_scope(name, s) is home
            and (key is None or k is None or k == key)]


def _typed_items(calls, container: ast.expr, scope: Scope, depth: int) -> list[dict]:
    """Instances of the element type a container is declared with, also through a copy or
    iterator of it (`iter(self.leaves)`) and a name bound once (`LL = list(leaves)`)."""
    for _ in range(3):
        if typed := receiver_types.element_instances(calls, container, scope, depth):
            return typed
        if isinstance(container, ast.Call) and (src := copied(calls, container, scope)):
            container = src
        elif isinstance(container, ast.Name) and len(
                bound := calls.bindings_of(container.id, scope, container.lineno) or ()) == 1 \
                and isinstance(bound[0].value, (ast.Call, ast.Attribute)):
            container, scope = bound[0].value, bound[0].scope
        else:
            return []
    return []


def items(calls, container: ast.expr, scope: Scope, depth: int, key=None) -> list[dict] | None:
    """References of the items of a container (a literal, or a name bound to literals and
    filled by adds), the values under constant `key` when given; None when nothing is known
    of it (no literal found)."""
    if typed := _typed_items(calls, container, scope, depth):
        return typed  # `xs: list[A]`, `self.leaves` declared list[Leaf]: A's, Leaf's
    held = _attribute_items(calls, container, scope)
    if held:
        out = []
        for v, where in held[:_MAX_ITEMS]:
            if not isinstance(v, CONTAINERS):
                out += [{**r, "via": "container_item"} for r in calls.refs(v, where, depth + 1)
                        or ()]
        return out
    values: list[tuple[ast.expr, Scope]] = []
    literals = _literal(calls, container, scope, depth)
    for lit, where in literals:
        if isinstance(lit, ast.Dict):
            pairs = zip(lit.keys, lit.values, strict=True)
            values += [(v, where) for k, v in pairs if key is None or k is None or (
                isinstance(k, ast.Constant) and k.value == key)]
        elif key is None or isinstance(key, int):
            elts = lit.elts if key is None else lit.elts[key:key + 1 or None]
            values += [(e, where) for e in elts if not isinstance(e, ast.Starred)]
    values += _added(calls, container, scope, key)
    if not values and not literals:  # not held here: read it where it is stored
        return item_refs(calls, container, scope, depth, key_path(key)) or None
    out = []
    for v, where in values[:_MAX_ITEMS]:
        if isinstance(v, (ast.Dict, ast.List, ast.Tuple, ast.Set)):
            continue  # a nested container is no callee; its items are read by a key
        got = calls.refs(v, where, depth + 1)
        if got is None:
            return None
        out += [{**r, "via": "container_item"} for r in got]
    return out


def item_refs(calls, container: ast.expr, scope: Scope, depth: int, path: str
              ) -> list[dict]:
    """References that read item `path` (`[]`, `["key"]`, `[0]`) of a container this file
    does not hold as a literal (an imported one, a function's result): the linker looks the
    items up (storage/call_items.py)."""
    base = calls.refs(container, scope, depth + 1) or []
    # also a method's result, an instance's attribute (`tree.walk()`, `node.children`)
    return [extend(r, path, "container_item") for r in base
            if r["mode"] in ("value", "param") and "[" not in r["attr"]
            and (r["attr"].endswith("()") or r["attr"] == "" or r["via"] == "import_alias"
                 or INSTANCE_ATTR.fullmatch(r["attr"]))]


def argument_items(calls, arg: ast.expr, scope: Scope) -> list[dict]:
    """The items of a container passed as an argument (`item` null: any key), for
    parameter flow into a parameter that is iterated or indexed."""
    return dedupe([{**r, "item": None} for r in items(calls, arg, scope, 0) or ()
                   if r["mode"] != "builtin"])


def get_item(calls, call: ast.Call, scope: Scope, depth: int) -> list[dict]:
    """`d.get(key, default)` on a container whose items are known: the item(s) under `key`,
    or the default."""
    key = call.args[0].value if isinstance(call.args[0], ast.Constant) else None
    got = items(calls, call.func.value, scope, depth + 1, key)
    if not got:
        return []
    default = calls.refs(call.args[1], scope, depth + 1) or [] if len(call.args) > 1 else []
    return got + default


def key_path(key) -> str:
    """The attribute step reading the item under constant `key` (any item: None)."""
    return f"[{json_text(key)}]" if isinstance(key, (str, int)) else "[]"


def stored_items(calls, value: ast.expr, scope: Scope, name: str | None = None) -> list[dict]:
    """Item references (`item`: the constant key or index, null when unknown) of a literal
    container `value`, plus those added to `name` in `scope` (`d[k] = v`, `d.update`): what
    core.definition_refs keeps of a module-level container or a returned literal."""
    out = []
    if isinstance(value, ast.Dict):
        pairs = [(k.value if isinstance(k, ast.Constant) else None, v)
                 for k, v in zip(value.keys, value.values, strict=True)]
    elif isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        pairs = [(i if isinstance(value, (ast.List, ast.Tuple)) else None, e)
                 for i, e in enumerate(value.elts) if not isinstance(e, ast.Starred)]
    else:
        return []
    if name is not None:
        pairs += [(k, v) for n, s, k, v in calls.adds if n == name and
                  calls._binding_scope(n, s) is scope]
    for key, v in pairs[:_MAX_ITEMS]:
        key = key if isinstance(key, (str, int)) and not isinstance(key, bool) else None
        if isinstance(v, (ast.Dict, ast.List, ast.Tuple, ast.Set)):
            continue  # nested containers are read in their own file only
        out += [{**r, "item": key} for r in calls.refs(v, scope) or ()
                if r["mode"] != "builtin" and r["mode"] != "param"]
    return out


def _self_attribute(expr: ast.expr, scope: Scope) -> tuple[str, str] | None:
    """(class, attribute) when `expr` reads a container kept on the instance in a method:
    `self.hooks`, `self.hooks[when]`, `self.subs.get(k, [])`, `self.subs.setdefault(k, [])`
    (keys are not told apart: every item of the attribute, at any depth)."""
    while True:
        if isinstance(expr, ast.Subscript):
            expr = expr.value
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
                and expr.func.attr in ("get", "setdefault"):
            expr = expr.func.value
        else:
            break
    if not (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name)):
        return None
    while scope is not None and scope.kind == "function":  # a def nested in the method
        scope = scope.parent
    if scope is None or scope.kind != "method" or scope.params[:1] != [expr.value.id]:
        return None
    return scope.parent.qualname, expr.attr


def _attribute_items(calls, expr: ast.expr, scope: Scope) -> list[tuple[ast.expr, Scope]]:
    """Values the class's methods put into the instance attribute `expr` reads."""
    key = _self_attribute(expr, scope)
    if key is None:
        return []
    return [(v, s) for receiver, s, _, v in calls.attr_adds
            if _self_attribute(receiver, s) == key]


def nested_item(calls, expr: ast.Subscript, scope: Scope, depth: int) -> list[dict] | None:
    """`NESTED["a"]["b"]`: the item of the nested literal under both constant keys."""
    inner = expr.value
    if not (isinstance(inner, ast.Subscript) and isinstance(inner.slice, ast.Constant)
            and isinstance(expr.slice, ast.Constant)):
        return None
    out = []
    for lit, where in _literal(calls, inner.value, scope, depth):
        sub = items_of_key(lit, inner.slice.value)
        if sub is not None:
            got = items(calls, sub, where, depth + 1, expr.slice.value)
            out += got or []
    return out or None


def items_of_key(lit: ast.expr, key) -> ast.expr | None:
    """The expression under constant `key` in literal `lit` (a dict's value, a sequence's
    element), None when absent."""
    if isinstance(lit, ast.Dict):
        return next((v for k, v in zip(lit.keys, lit.values, strict=True)
                     if isinstance(k, ast.Constant) and k.value == key), None)
    if isinstance(lit, (ast.List, ast.Tuple)) and isinstance(key, int) \
            and -len(lit.elts) <= key < len(lit.elts):
        return lit.elts[key]
    return None


def unpacked(calls, value: ast.expr, path: tuple, scope: Scope, depth: int
             ) -> list[dict] | None:
    """References of the name at `path` of an unpacking of `value` (bindings._bind_unpack):
    followed through literal tuples and lists (also behind names); a starred step is a list,
    none of whose items is the name itself, so it stands for no callee ([]) but is iterated
    through `starred_items`. None (opaque) when `value` is no literal."""
    expr = value
    for n, step in enumerate(path):
        lits = _literal(calls, expr, scope, depth)
        if not lits and not any(isinstance(s, tuple) for s in path[n:]):
            return item_refs(calls, expr, scope, depth,
                             "".join(key_path(s) for s in path[n:])) or None
        if len(lits) != 1 or isinstance(lits[0][0], ast.Dict):
            return None
        (lit, scope), = lits
        if isinstance(step, tuple):
            return []
        if not -len(lit.elts) <= step < len(lit.elts) or any(
                isinstance(e, ast.Starred) for e in lit.elts):
            return None
        expr = lit.elts[step]
    got = calls.refs(expr, scope, depth + 1)
    return None if got is None else [{**r, "via": "assigned_alias"} for r in got]


def each(calls, iterable: ast.expr, path: tuple, scope: Scope, depth: int
         ) -> list[dict] | None:
    """References of the name at `path` of a loop's tuple target, over every item of the
    literal `iterable` (`for name, fn in (("a", f), ("b", g))`: f and g); None when the
    iterable or one of its items is no literal."""
    lits = _literal(calls, iterable, scope, depth)
    if not lits:
        return None
    out = []
    for lit, where in lits:
        for item in lit.elts if not isinstance(lit, ast.Dict) else lit.keys:
            got = unpacked(calls, item, path, where, depth + 1)
            if got is None:
                return None
            out += [{**r, "via": "container_item"} for r in got]
    return out


def starred_items(calls, value: ast.expr, path: tuple, scope: Scope, depth: int
                  ) -> list[dict] | None:
    """Items of the starred name at `path` (`first, *rest = [f, g, h]`: g and h)."""
    expr = value
    for step in path:
        lits = _literal(calls, expr, scope, depth)
        if len(lits) != 1 or isinstance(lits[0][0], ast.Dict):
            return None
        (lit, scope), = lits
        if isinstance(step, tuple):
            _, first, after = step
            out = []
            for e in lit.elts[first:len(lit.elts) - after]:
                out += [{**r, "via": "container_item"} for r in calls.refs(e, scope, depth + 1)
                        or ()]
            return out
        expr = lit.elts[step]
    return None


def callback_refs(calls, node: ast.Call, refs: list[dict], scope: Scope) -> list[dict]:
    """References of what a builtin at call `node` calls (refs: the callee's references):
    a key/map/filter function, an iterator's __next__ (`next(it)`), the functions called in
    constant code given to eval/exec. Marked `extra`."""
    named = [r["ref"][len("builtins."):] for r in refs if r["mode"] == "builtin"]
    if not named:
        return []
    name, out = named[0], []
    if name in _CALLBACKS:
        pos, kw = _CALLBACKS[name]
        args = [k.value for k in node.keywords if k.arg == kw] if kw else node.args[pos:pos + 1]
        for a in args:
            out += [{**r, "extra": "callback"} for r in calls.refs(a, scope) or ()]
    elif name in ("next", "iter") and node.args:
        dunder = f".__{name}__"
        out += [{**extend(r, dunder, "implicit"), "extra": "next"}
                for r in calls.refs(node.args[0], scope) or () if r["mode"] != "builtin"]
    elif name in ("eval", "exec") and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        try:
            code = ast.parse(node.args[0].value, mode="eval" if name == "eval" else "exec")
        except SyntaxError:
            return []
        for sub in ast.walk(code):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                sub.func.lineno = 0  # any binding of the name: the code runs at the call
                out += [{**r, "extra": "eval"} for r in calls.refs(sub.func, scope) or ()
                        if r["mode"] != "builtin"]
    return [r for r in out if r["mode"] != "builtin"]


def statement_rows(calls) -> list[dict]:
    """core.call_sites rows of the `with`, `for` and `raise X` statements whose expression's
    value the file knows (an instance, a class): at the expression's start; refs only
    `extra` (with -> __enter__ and __exit__, for -> __iter__ and __next__ of what it
    returns, raise -> the class's constructor)."""
    rows = []
    for protocol, expr, scope in calls.statements:
        refs = [r for r in calls.refs(expr, scope) or () if r["mode"] != "builtin"]
        if protocol == "with":
            refs = [extend(r, m, "implicit") for r in refs for m in (".__enter__", ".__exit__")]
        elif protocol == "for":
            refs = [extend(r, m, "implicit") for r in refs
                    if "()" in r["attr"] or r["via"] in ("self_method", "instance_method")
                    for m in (".__iter__", ".__iter__().__next__")]
        refs = [{**r, "extra": protocol} for r in refs]
        if refs:
            rows.append({
                "line": expr.lineno, "col": expr.col_offset, "module": calls.module,
                "caller_qualname": scope.qualname,
                "callee_name": f"{protocol} {calls._text(expr)}"[:200],
                "name_line": None, "name_col": None, "is_decorator": False,
                "refs": json_text(dedupe(refs)), "args": "[]"})
    return rows
