"""analytics.function_metrics and analytics.function_types: one row per function/method of a file,
from the ast repo_scan already walks (extract/python_ast.py feeds every pysource Visit to
FunctionMetrics.visit; nothing is parsed again).

Each def's numbers cover its own body: nodes whose pysource scope is the def. A nested def or
class is one statement of its parent; its body, decorators, defaults, annotations and bases count
for neither the parent's complexity nor its lines (the nested def has its own row). That is
radon's rule for cyclomatic complexity (ComplexityVisitor.visit_FunctionDef: closures are
separate blocks and add nothing to their parent). Cognitive complexity follows the same rule,
so a function and its nested defs never count one line twice in a ranking: complexipy and
SonarSource's paper add a nested def's body to its parent instead (extract/cognitive.py says
where else it follows complexipy); the nested def's own row counts its body from nesting 0.

Units: lines are physical source lines; complexities are counts of decision points.
"""

from __future__ import annotations

import ast
from decimal import Decimal

from codeintel_assets.extract.cognitive import cognitive_complexity
from codeintel_assets.extract.goids import goid
from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.pysource import Visit, dotted_name, is_overload_signature

_FUNCTION_KINDS = ("function", "method")
# What a node type means to FunctionMetrics.visit; codes >= _STMT are statements. Types not
# listed (most expressions) play no part. radon has no rule for TryStar (`except*`): it adds
# nothing to cyclomatic complexity, it is only a statement.
_CALL, _LAMBDA, _IF_EXP, _BOOL, _COMPREHENSION, _YIELD = range(6)
_STMT, _IF, _LOOP, _TRY, _MATCH, _ASSERT, _RETURN, _RAISE, _DEF, _CLASS = range(10, 20)
_CODES: dict[type, int] = {t: _STMT for t in (
    ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.Pass, ast.Break,
    ast.Continue, ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom, ast.With, ast.AsyncWith,
    ast.TryStar, *([ast.TypeAlias] if hasattr(ast, "TypeAlias") else []))}
_CODES.update({
    ast.Call: _CALL, ast.Lambda: _LAMBDA, ast.IfExp: _IF_EXP, ast.BoolOp: _BOOL,
    ast.comprehension: _COMPREHENSION, ast.Yield: _YIELD, ast.YieldFrom: _YIELD, ast.If: _IF,
    ast.For: _LOOP, ast.AsyncFor: _LOOP, ast.While: _LOOP, ast.Try: _TRY, ast.Match: _MATCH,
    ast.Assert: _ASSERT, ast.Return: _RETURN, ast.Raise: _RAISE, ast.FunctionDef: _DEF,
    ast.AsyncFunctionDef: _DEF, ast.ClassDef: _CLASS,
})
VISITED = frozenset(_CODES)  # the node types FunctionMetrics.visit needs
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.TryStar, ast.With,
             ast.AsyncWith, ast.Match)
# complexity_bucket: radon's ranks A (1-5) low, B (6-10) moderate, C (11-20) high, D-F very_high
BUCKETS = ((5, "low"), (10, "moderate"), (20, "high"))


class _Def:
    """Counters of one def's own body (see module doc)."""

    __slots__ = ("cc", "kind", "lines", "nested_lines", "node", "qualname", "raises",
                 "recursive", "returns", "stmts", "yields")

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, kind: str):
        self.node, self.qualname, self.kind = node, qualname, kind
        self.cc = 1  # McCabe: decision points + 1
        self.returns = self.yields = self.raises = self.stmts = self.nested_lines = 0
        self.lines: set[int] = set()
        self.recursive = False  # calls its own name directly (complexipy's +1)


class FunctionMetrics:
    """Feed every Visit of pysource.walk in order to `visit`, then read `rows(...)`."""

    def __init__(self) -> None:
        self._defs: dict[str, _Def] = {}
        self._headers: set[int] = set()  # ids of VISITED nodes in headers of nested defs
        self._skip = -1  # skip visits deeper than this (inside an assert)
        self._lambda = -1  # inside a lambda below this depth: its calls are not recursion
        self._scope: object = None  # the last Scope looked up, and its def (walk reuses Scopes)
        self._acc: _Def | None = None

    def visit(self, v: Visit) -> None:
        """Count one node. Only nodes of VISITED types need to be fed (the others play no part;
        python_ast tests the type first, which keeps this pass cheap)."""
        node, depth = v.node, v.depth
        if self._skip >= 0:
            if depth > self._skip:
                return
            self._skip = -1
        if self._lambda >= 0 and depth <= self._lambda:
            self._lambda = -1
        if self._headers and id(node) in self._headers:
            return  # evaluated in the parent's scope, but not its body (radon)
        code = _CODES[type(node)]
        if code == _DEF:
            self._defs[v.qualname] = _Def(node, v.qualname, v.kind)
        scope = v.scope
        if scope is not self._scope:
            self._scope = scope
            self._acc = (self._defs.get(scope.qualname) if scope.kind in _FUNCTION_KINDS
                         else None)
        acc = self._acc
        if acc is None:
            return
        if code >= _STMT:
            acc.stmts += 1
            acc.lines.add(node.lineno)
        if code == _CALL:
            func = node.func
            if type(func) is ast.Name and func.id == acc.node.name and self._lambda < 0:
                acc.recursive = True
        elif code == _LAMBDA:
            if self._lambda < 0:
                self._lambda = depth
        elif code == _IF or code == _IF_EXP:
            acc.cc += 1
        elif code == _BOOL:
            acc.cc += len(node.values) - 1
        elif code == _COMPREHENSION:
            acc.cc += 1 + len(node.ifs)
        elif code == _LOOP:
            acc.cc += 1 + bool(node.orelse)
        elif code == _TRY:
            acc.cc += len(node.handlers) + bool(node.orelse)
        elif code == _MATCH:
            # a capture or wildcard case (`case _`, `case x`) is the match's else
            acc.cc += max(0, len(node.cases) - any(
                isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None
                for c in node.cases))
        elif code == _ASSERT:  # radon counts the assert and does not look inside it
            acc.cc += 1
            self._skip = depth
        elif code == _RETURN:
            acc.returns += 1
        elif code == _YIELD:
            acc.yields += 1
        elif code == _RAISE:
            acc.raises += 1
        elif code == _DEF or code == _CLASS:
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            acc.nested_lines += node.end_lineno - start + 1
            body = set(map(id, node.body))
            self._headers.update(id(n) for c in ast.iter_child_nodes(node) if id(c) not in body
                                 for n in ast.walk(c) if type(n) in VISITED)

    def rows(self, repo: str, ident: dict, lines: list[str]) -> tuple[list[dict], list[dict]]:
        """(analytics.function_metrics rows, analytics.function_types rows), in source order."""
        metrics, types = [], []
        for d in self._defs.values():
            if is_overload_signature(d.qualname):
                continue  # never runs: the implementation has the metrics
            node = d.node
            key = {**ident, "goid": Decimal(goid(repo, "python", ident["rel_path"], d.kind,
                                                 d.qualname)), "qualname": d.qualname}
            params = _params(node, d.kind)
            args = node.args
            positional = {id(a) for a in (*args.posonlyargs, *args.args)}
            cc = d.cc
            metrics.append({
                **key, "lineno": node.lineno, "end_lineno": node.end_lineno,
                "loc": node.end_lineno - node.lineno + 1 - d.nested_lines,
                "logical_loc": len(d.lines), "stmt_count": d.stmts,
                "positional_params": sum(id(p) in positional for p in params),
                "keyword_only_params": len(args.kwonlyargs),
                "has_varargs": args.vararg is not None, "has_varkw": args.kwarg is not None,
                "is_async": type(node) is ast.AsyncFunctionDef, "is_generator": d.yields > 0,
                "return_count": d.returns, "yield_count": d.yields, "raise_count": d.raises,
                "cyclomatic_complexity": cc, "cognitive_complexity": cognitive_complexity(node, d.recursive),
                "max_nesting_depth": _max_nesting(node.body),
                "decorator_count": len(node.decorator_list),
                "has_docstring": ast.get_docstring(node, clean=False) is not None,
                "complexity_bucket": bucket(cc),
            })
            annotated = [p for p in params if p.annotation is not None]
            total = len(params)
            returns = node.returns is not None
            types.append({
                **key, "params_total": total, "params_annotated": len(annotated),
                "param_typed_ratio": len(annotated) / total if total else None,
                "has_return_annotation": returns,
                "return_type": _text(lines, node.returns) if returns else None,
                "param_types": json_text({_label(node, p): _text(lines, p.annotation)
                                           if p.annotation is not None else None
                                           for p in params}),
                "typedness_bucket": typedness(total, len(annotated), returns),
            })
        return metrics, types


def bucket(cyclomatic: int) -> str:
    for limit, name in BUCKETS:
        if cyclomatic <= limit:
            return name
    return "very_high"


def typedness(total: int, annotated: int, returns: bool) -> str:
    """typed: every parameter and the return annotated (no parameters: the return is enough);
    untyped: nothing annotated; partial: the rest."""
    if annotated == total and returns:
        return "typed"
    return "untyped" if annotated == 0 and not returns else "partial"


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef, kind: str) -> list[ast.arg]:
    """Parameters of a def in order, the bound self/cls of a method excluded (as
    core.ast_nodes.params_total)."""
    args = node.args
    params = [*args.posonlyargs, *args.args, *([args.vararg] if args.vararg else []),
              *args.kwonlyargs, *([args.kwarg] if args.kwarg else [])]
    static = any((dotted_name(d) or "").rsplit(".", 1)[-1] == "staticmethod"
                 for d in node.decorator_list)
    if kind == "method" and not static and (args.posonlyargs or args.args):
        params.remove((args.posonlyargs or args.args)[0])
    return params


def _label(node, p: ast.arg) -> str:
    if p is node.args.vararg:
        return "*" + p.arg
    return "**" + p.arg if p is node.args.kwarg else p.arg


def _text(lines: list[str], e: ast.expr) -> str:
    """The annotation as written (cut from the source by its UTF-8 byte offsets)."""
    if e.lineno == e.end_lineno:
        return lines[e.lineno - 1].encode()[e.col_offset:e.end_col_offset].decode()
    parts = [lines[e.lineno - 1].encode()[e.col_offset:]]
    parts += [lines[i].encode() for i in range(e.lineno, e.end_lineno - 1)]
    parts.append(lines[e.end_lineno - 1].encode()[:e.end_col_offset])
    return b"\n".join(parts).decode()


def _max_nesting(body: list[ast.stmt], level: int = 0) -> int:
    """Deepest nesting of compound statements (if, loops, try, with, match) in a def's own
    body: 0 for a flat body; an elif chain is one level; nested defs are not entered."""
    deepest = level
    for s in body:
        if not isinstance(s, _COMPOUND):
            continue
        if type(s) is ast.If:
            while True:  # an elif is the orelse's lone If: same level as its `if`
                deepest = max(deepest, _max_nesting(s.body, level + 1))
                if len(s.orelse) == 1 and type(s.orelse[0]) is ast.If:
                    s = s.orelse[0]
                    continue
                deepest = max(deepest, _max_nesting(s.orelse, level + 1))
                break
            continue
        for suite in (getattr(s, "body", ()), getattr(s, "orelse", ()),
                      getattr(s, "finalbody", ())):
            deepest = max(deepest, _max_nesting(suite, level + 1))
        for h in getattr(s, "handlers", ()):
            deepest = max(deepest, _max_nesting(h.body, level + 1))
        for c in getattr(s, "cases", ()):
            deepest = max(deepest, _max_nesting(c.body, level + 1))
    return deepest
