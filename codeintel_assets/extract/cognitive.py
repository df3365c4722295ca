"""Cognitive complexity (G. Ann Campbell, SonarSource, 2017) of a def's own body.

complexipy (8.3.0, Rust over ruff's ast) is the reference analytics.function_metrics is checked
against (test_function_metrics.py); this module reproduces its rules on CPython's ast so that the
number comes from the tree repo_scan already has. The rules, where they refine the paper:

- +1 plus the nesting level for `if`, a ternary, `for`/`while` (their `else` adds nothing), each
  `except` clause and `match`; +1 (no nesting) for `elif` and `else` of an `if`. Bodies of those
  (not of `try`, `with`, `else` of a loop, `finally`) are one level deeper.
- A def or class inside a def adds nothing to it: the nested def owns its body and its own
  row counts it from nesting level 0, so each line of logic is counted once. Here we depart
  from complexipy and the paper, which add a nested def's body to its parent one level deeper
  (and, for a decorator factory, a def whose body is [def, return], count only the inner
  def); test_function_metrics compares with complexipy on the source with nested defs'
  bodies removed. Lambdas have no row of their own and count where they stand.
- +1 for a sequence of boolean operators, +1 more where the operator changes; these and
  ternaries/comprehensions are counted only in a statement's own expression (assignment value,
  condition, return/raise value, assert, with item, expression statement), through calls'
  positional arguments, containers, comparisons, `not`, lambdas and comprehensions (+1 plus
  nesting per `for`, +1 per `if`).
- +1 once if the body calls the def's own name directly (recursion).
"""

from __future__ import annotations

import ast


def cognitive_complexity(node: ast.FunctionDef | ast.AsyncFunctionDef,
                         recursive: bool | None = None) -> int:
    """Cognitive complexity of `node`'s own body, counted from nesting level 0 (complexipy's
    number for a top-level function or a method of a top-level class once nested defs' bodies
    are removed). `recursive`: whether its body calls
    its own name (outside nested defs, classes and lambdas), when the caller already knows
    (FunctionMetrics finds it in its walk); else it is searched here."""
    if recursive is None:
        recursive = _recursive(node.body, node.name)
    return _suite(node.body, 0) + recursive


def _suite(body: list[ast.stmt], nesting: int) -> int:
    total = 0
    for s in body:
        if type(s) not in _FLAT:  # most statements of a body add nothing: skip the call
            total += _stmt(s, nesting)
    return total


def _stmt(s: ast.stmt, n: int) -> int:
    t = type(s)
    if t is ast.If:
        total = 1 + n + _bool(s.test, n) + _suite(s.body, n + 1)
        while s.orelse:
            clause = s.orelse
            # `elif` is an If alone in orelse starting at the `if`'s own column; `else: if` is
            # indented further (CPython's tree is otherwise the same).
            if (len(clause) == 1 and type(clause[0]) is ast.If
                    and clause[0].col_offset == s.col_offset):
                s = clause[0]
                total += 1 + _bool(s.test, n) + _suite(s.body, n + 1)
                continue
            return total + 1 + _suite(clause, n + 1)
        return total
    if t is ast.For or t is ast.AsyncFor or t is ast.While:
        control = s.test if t is ast.While else s.iter
        return 1 + n + _bool(control, n) + _suite(s.body, n + 1) + _suite(s.orelse, n)
    if t is ast.Try or t is ast.TryStar:
        total = _suite(s.body, n) + _suite(s.orelse, n) + _suite(s.finalbody, n)
        return total + sum(1 + n + _suite(h.body, n + 1) for h in s.handlers)
    if t is ast.Match:
        return 1 + n + sum(_suite(c.body, n + 1) for c in s.cases)
    if t is ast.With or t is ast.AsyncWith:
        return sum(_bool(i.context_expr, n) for i in s.items) + _suite(s.body, n)
    if t is ast.Assign or t is ast.AugAssign or t is ast.Expr:
        return _bool(s.value, n)
    if t is ast.AnnAssign or t is ast.Return:
        return _bool(s.value, n) if s.value is not None else 0
    if t is ast.Raise:
        return sum(_bool(e, n) for e in (s.exc, s.cause) if e is not None)
    if t is ast.Assert:
        return _bool(s.test, n) + (_bool(s.msg, n) if s.msg is not None else 0)
    return 0


_COMPS = (ast.ListComp, ast.SetComp, ast.GeneratorExp)
# Expressions _bool looks into; anything else (names, attributes, constants, ...) is 0.
_COUNTED = frozenset({ast.BoolOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Lambda, *_COMPS,
                      ast.DictComp, ast.Call, ast.Tuple, ast.List, ast.Set, ast.Dict})
# Statements _stmt gives 0 whatever they hold (nested defs and classes: module doc).
_FLAT = frozenset({ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.Import,
                   ast.ImportFrom, ast.Delete, ast.FunctionDef, ast.AsyncFunctionDef,
                   ast.ClassDef})


def _bool(e: ast.expr, n: int) -> int:
    """Boolean sequences, ternaries and comprehensions reachable in `e` (see module doc)."""
    t = type(e)
    if t not in _COUNTED:
        return 0
    if t is ast.BoolOp:
        return 1 + sum(_op_changes(v, e) for v in e.values)
    if t is ast.UnaryOp:
        return _op_changes(e.operand, e)
    if t is ast.Compare:
        return _bool(e.left, n) + sum(_bool(c, n) for c in e.comparators)
    if t is ast.IfExp:
        return 1 + n + _bool(e.test, n) + _bool(e.body, n + 1) + _bool(e.orelse, n + 1)
    if t is ast.Lambda:
        return _bool(e.body, n + 1)
    if t in _COMPS:
        return _comprehension((e.elt,), e.generators, n)
    if t is ast.DictComp:
        return _comprehension((e.key, e.value), e.generators, n)
    if t is ast.Call:
        items = e.args
    elif t is ast.Dict:
        items = e.values
    else:  # Tuple, List, Set
        items = e.elts
    total = 0
    for x in items:
        if type(x) in _COUNTED:
            total += _bool(x, n)
    return total


def _comprehension(elements, generators: list[ast.comprehension], n: int) -> int:
    total = 0
    for g in generators:
        total += 1 + n + _bool(g.iter, n) + sum(1 + _bool(f, n + 1) for f in g.ifs)
    return total + sum(_bool(x, n + 1) for x in elements)


def _op_changes(e: ast.expr, parent: ast.expr) -> int:
    """Operator changes at and below `e`, an operand of the boolean operator or unary
    operator `parent`: a boolean operator adds 1 under one of the other kind or under a unary
    operator (`a or not (b and c)`: 2 sequences); unary operators are looked through. These are
    complexipy 8.3.0's counts (checked on click, jinja2, rich and PyYAML)."""
    t = type(e)
    if t is ast.BoolOp:
        tp = type(parent)
        new = tp is ast.UnaryOp or (tp is ast.BoolOp and type(e.op) is not type(parent.op))
        return new + sum(_op_changes(v, e) for v in e.values)
    if t is ast.UnaryOp:
        return _op_changes(e.operand, e)
    return 0


def _recursive(body: list[ast.stmt], name: str) -> bool:
    """A direct call `name(...)` in `body`, outside nested defs, classes and lambdas."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if (type(node) is ast.Call and type(node.func) is ast.Name and node.func.id == name):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False
