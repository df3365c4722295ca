"""Branch facts of one file for the call graph (extract/calls.py): which of a scope's
same-named definitions may be the name's binding once the scope's body has run, and under which
argument values a function returns what it returns.

Both read `if` statements only, never run code:
- `if sys.version_info >= (3, 9):` (also `sys.version_info[:2]`, `[0]`, `.major`) is decided
  against VERSION, the interpreter this analysis runs on: the analysed code is taken to run on
  it too (a compatibility branch for an older Python is dead code there).
- Every other condition is unknown: both branches may run, so a name defined in each is bound
  to either definition (`if FANCY: def box()... else: def box()...`: two callees).
"""

from __future__ import annotations

import ast
import operator
import sys

VERSION = tuple(sys.version_info[:3])
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_GUARD_VALUES = (str, int, bool, type(None))


def _version_side(expr: ast.expr) -> tuple | int | None:
    """The running version as `expr` reads it: `sys.version_info` (a tuple), `[:n]` (a tuple),
    `[0]`/`.major` (an int), `[1]`/`.minor`; None when `expr` is none of these."""
    if isinstance(expr, ast.Attribute) and expr.attr == "version_info" \
            and isinstance(expr.value, ast.Name) and expr.value.id == "sys":
        return VERSION
    if isinstance(expr, ast.Attribute) and expr.attr in ("major", "minor"):
        whole = _version_side(expr.value)
        return whole[0 if expr.attr == "major" else 1] if isinstance(whole, tuple) else None
    if isinstance(expr, ast.Subscript):
        whole = _version_side(expr.value)
        if not isinstance(whole, tuple):
            return None
        s = expr.slice
        if isinstance(s, ast.Constant) and isinstance(s.value, int) and 0 <= s.value < 3:
            return whole[s.value]
        if isinstance(s, ast.Slice) and s.lower is None and s.step is None \
                and isinstance(s.upper, ast.Constant) and isinstance(s.upper.value, int):
            return whole[:s.upper.value]
    return None


def decided(test: ast.expr) -> bool | None:
    """The value of an `if` test that compares the interpreter's version with a constant
    (`not` and `and`/`or` of such tests too); None when it depends on anything else."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = decided(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [decided(v) for v in test.values]
        if isinstance(test.op, ast.And):
            return False if False in values else (None if None in values else True)
        return True if True in values else (None if None in values else False)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and type(test.ops[0]) in _COMPARE):
        return None
    left, right = _version_side(test.left), test.comparators[0]
    try:
        const = ast.literal_eval(right)
    except ValueError:
        return None
    if left is None or not isinstance(const, (tuple, int)) or isinstance(const, bool) \
            or type(left) is not type(const):
        return None
    return _COMPARE[type(test.ops[0])](left, const)


def _blocks(stmt: ast.stmt) -> list[tuple[str, list[ast.stmt]]]:
    """The statement lists inside a compound statement that may run (an `if` decided by the
    version: only the branch taken)."""
    if isinstance(stmt, ast.If):
        taken = decided(stmt.test)
        return [b for b in (("body", stmt.body), ("orelse", stmt.orelse))
                if taken is None or (b[0] == "body") == taken]
    out = []
    for field in ("body", "orelse", "finalbody"):
        if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, _DEFS):
            out.append((field, getattr(stmt, field)))
    for i, h in enumerate(getattr(stmt, "handlers", ()) or ()):
        out.append((f"handler{i}", h.body))
    for i, c in enumerate(getattr(stmt, "cases", ()) or ()):
        out.append((f"case{i}", c.body))
    return out


def live_definitions(body: list[ast.stmt]) -> dict[str, list[ast.AST]]:
    """Name -> the def, class and assignment (`name = value`, ast.Assign or ast.AnnAssign)
    statements of `body` (and of the blocks it nests, not inside other defs) that may be the
    name's binding after `body` ran, in source order, for every name defined there: a
    definition is dead when a later one of the name sits in its own block or in a block
    around it (it always replaces it), or when it sits in a branch the version decides
    against."""
    found: list[tuple[str, ast.AST, tuple]] = []

    def visit(stmts: list[ast.stmt], path: tuple) -> None:
        for stmt in stmts:
            if isinstance(stmt, _DEFS):
                found.append((stmt.name, stmt, path))
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:  # `a = b = f`, `a, b = f, g`: each name
                    for name in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]):
                        if isinstance(name, ast.Name):
                            found.append((name.id, stmt, path))
            else:
                for field, block in _blocks(stmt):
                    visit(block, (*path, (id(stmt), field)))

    visit(body, ())
    out: dict[str, list[ast.AST]] = {}
    for i, (name, node, path) in enumerate(found):
        later = [p for n, _, p in found[i + 1:] if n == name]
        if not any(path[:len(p)] == p for p in later):
            out.setdefault(name, []).append(node)
    return out


def return_guards(fn: ast.AST, params: list[str]) -> dict[int, list[dict]]:
    """id(returned expression) -> the conditions on constant arguments under which `fn`
    returns it: `if kind == "json": return as_json` gives {"param": "kind", "index": 0,
    "eq": "json"}; the statements after an `if` whose body always returns, and its `else`,
    get "ne". Only tests comparing a parameter with a str, int, bool or None constant."""
    out: dict[int, list[dict]] = {}

    def visit(stmts: list[ast.stmt], guards: list[dict]) -> None:
        guards = list(guards)
        for stmt in stmts:
            if isinstance(stmt, ast.Return) and stmt.value is not None and guards:
                out[id(stmt.value)] = guards
            if isinstance(stmt, _DEFS):
                continue
            if isinstance(stmt, ast.If):
                g = _guard(stmt.test, params)
                if g is not None:
                    negated = {k: v for k, v in g.items() if k != "eq"} | {"ne": g["eq"]}
                    visit(stmt.body, [*guards, g])
                    visit(stmt.orelse, [*guards, negated])
                    guards += _exits(stmt, params)
                    continue
            for _, block in _blocks(stmt):
                visit(block, guards)

    visit(getattr(fn, "body", []), [])
    return out


def _exits(stmt: ast.If, params: list[str]) -> list[dict]:
    """What holds after an `if`/`elif` chain whose guarded bodies end in return or raise:
    none of their conditions (`if k == "a": return f` / `elif k == "b": return g`)."""
    out = []
    while True:
        g = _guard(stmt.test, params)
        if g is None or not stmt.body or not isinstance(stmt.body[-1], (ast.Return, ast.Raise)):
            return out
        out.append({k: v for k, v in g.items() if k != "eq"} | {"ne": g["eq"]})
        if len(stmt.orelse) != 1 or not isinstance(stmt.orelse[0], ast.If):
            return out
        stmt = stmt.orelse[0]


def _guard(test: ast.expr, params: list[str]) -> dict | None:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Eq, ast.Is))):
        return None
    left, right = test.left, test.comparators[0]
    if isinstance(left, ast.Constant):
        left, right = right, left
    if not (isinstance(left, ast.Name) and left.id in params and isinstance(right, ast.Constant)
            and isinstance(right.value, _GUARD_VALUES)):
        return None
    return {"param": left.id, "index": params.index(left.id), "eq": right.value}


def constant_args(call: ast.Call) -> dict[str, object] | None:
    """The constant arguments of a call (position as a string, or keyword) before any
    `*args`, for return_guards' conditions; None when there are none."""
    out: dict[str, object] = {}
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Starred):
            break
        if isinstance(a, ast.Constant) and isinstance(a.value, _GUARD_VALUES):
            out[str(i)] = a.value
    for k in call.keywords:
        if k.arg and isinstance(k.value, ast.Constant) and isinstance(k.value.value,
                                                                       _GUARD_VALUES):
            out[k.arg] = k.value.value
    return out or None
