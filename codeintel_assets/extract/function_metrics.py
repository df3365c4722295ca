"""analytics.function_metrics and analytics.function_types: one row per function/method of a file,
from the ast ast_extract already walks (extract/python_ast.py feeds every pysource Visit to
FunctionMetrics.visit; nothing is parsed again).

Each def's numbers cover its own body: nodes whose pysource scope is the def. A nested def or
class is one statement of its parent; its body, decorators, defaults, annotations and bases count
for neither the parent's complexity nor its lines (the nested def has its own row). That is
radon's rule for cyclomatic complexity (ComplexityVisitor.visit_FunctionDef: closures are
separate blocks and add nothing to their parent). Cognitive complexity follows complexipy
instead (extract/cognitive.py): a nested def's body counts toward its parent, as SonarSource's
paper has it; the nested def's own row counts its body from nesting level 0.

Units: lines are physical source lines; complexities are counts of decision points.
"""

from __future__ import annotations

import ast
import json
from decimal import Decimal

from codeintel_assets.extract.cognitive import cognitive_complexity
from codeintel_assets.extract.goids import goid
from codeintel_assets.extract.pysource import Visit, dotted_name

_FUNCTION_KINDS = ("function", "method")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.TryStar, ast.With,
             ast.AsyncWith, ast.Match)
# complexity_bucket: radon's ranks A (1-5) low, B (6-10) moderate, C (11-20) high, D-F very_high
BUCKETS = ((5, "low"), (10, "moderate"), (20, "high"))


class _Def:
    """Counters of one def's own body (see module doc)."""

    __slots__ = ("cc", "kind", "lines", "nested_lines", "node", "qualname", "raises", "returns",
                 "stmts", "yields")

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, kind: str):
        self.node, self.qualname, self.kind = node, qualname, kind
        self.cc = 1  # McCabe: decision points + 1
        self.returns = self.yields = self.raises = self.stmts = self.nested_lines = 0
        self.lines: set[int] = set()


class FunctionMetrics:
    """Feed every Visit of pysource.walk in order to `visit`, then read `rows(...)`."""

    def __init__(self) -> None:
        self._defs: dict[str, _Def] = {}
        self._headers: set[int] = set()  # ids of header expressions of defs nested in a def
        self._skip = -1  # skip visits deeper than this (a nested def's header, an assert)

    def visit(self, v: Visit) -> None:
        node, depth = v.node, v.depth
        if self._skip >= 0:
            if depth > self._skip:
                return
            self._skip = -1
        if self._headers and id(node) in self._headers:
            self._skip = depth  # evaluated in the parent's scope, but not its body (radon)
            return
        t = type(node)
        if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            self._defs[v.qualname] = _Def(node, v.qualname, v.kind)
        acc = self._defs.get(v.scope.qualname) if v.scope.kind in _FUNCTION_KINDS else None
        if acc is None:
            return
        if isinstance(node, ast.stmt):
            acc.stmts += 1
            acc.lines.add(node.lineno)
        if t is ast.If or t is ast.IfExp:
            acc.cc += 1
        elif t is ast.BoolOp:
            acc.cc += len(node.values) - 1
        elif t is ast.comprehension:
            acc.cc += 1 + len(node.ifs)
        elif t in _LOOPS:
            acc.cc += 1 + bool(node.orelse)
        elif t is ast.Try:  # radon has no rule for TryStar (except*): it adds nothing
            acc.cc += len(node.handlers) + bool(node.orelse)
        elif t is ast.Match:
            # a capture or wildcard case (`case _`, `case x`) is the match's else
            acc.cc += max(0, len(node.cases) - any(
                isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None
                for c in node.cases))
        elif t is ast.Assert:  # radon counts the assert and does not look inside it
            acc.cc += 1
            self._skip = depth
        elif t is ast.Return:
            acc.returns += 1
        elif t is ast.Yield or t is ast.YieldFrom:
            acc.yields += 1
        elif t is ast.Raise:
            acc.raises += 1
        elif t in _NESTED:
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            acc.nested_lines += node.end_lineno - start + 1
            body = set(map(id, node.body))
            self._headers.update(id(c) for c in ast.iter_child_nodes(node) if id(c) not in body)

    def rows(self, repo: str, ident: dict, lines: list[str]) -> tuple[list[dict], list[dict]]:
        """(analytics.function_metrics rows, analytics.function_types rows), in source order."""
        metrics, types = [], []
        for d in self._defs.values():
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
                "cyclomatic_complexity": cc, "cognitive_complexity": cognitive_complexity(node),
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
                "param_types": json.dumps({_label(node, p): _text(lines, p.annotation)
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
