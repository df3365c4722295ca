"""repo_scan: `core.ast_nodes`, `core.ast_metrics`, `core.imports`, `core.call_sites`,
`core.definition_refs`, `analytics.function_metrics` and `analytics.function_types` from one
`ast.parse` (call resolution within the file: extract/calls.py; per-function metrics:
extract/function_metrics.py).

Data comes from CPython's `ast` module (lines 1-based, columns 0-based UTF-8 byte offsets).
`core.ast_nodes` keeps every statement, the module, except handlers and the expressions a call
graph or a metric needs (RECORDED_EXPRS); leaf expressions (names, constants, operators) are
counted in `core.ast_metrics` but not stored, which keeps the table about 5x smaller.
"""

from __future__ import annotations

import ast

from codeintel_assets.extract.calls import FileCalls
from codeintel_assets.extract.function_metrics import VISITED, FunctionMetrics
from codeintel_assets.extract.implicit_calls import VISITED_TYPES
from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.naming import shadowed_stub
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.pysource import (
    Visit,
    dotted_name,
    module_is_package,
    name_position,
    read_python,
    resolve_relative,
    source_lines,
    walk,
)

# Bump when the rows this module produces change for unchanged input: stored rows built by
# another version are rebuilt in full (see storage.changes).
# 2: core.call_sites; 3: super(X, self); 4: comprehension and lambda scopes, global/nonlocal,
# match targets; 5: core.definition_refs; 6: analytics.function_metrics and function_types;
# 7: @overload signatures leave the plain qualname to the implementation (pysource.walk)
# and have no function_metrics or function_types rows
# 8: no analytics.function_metrics / function_types rows for a stub a .py implements
# 9: core.call_sites and core.definition_refs carry value flow, receiver types, implicit
# and property call sites (issues 20 and 27); JSON columns through json_text
# 10: receiver types kept when first read at the depth limit, a module's own union alias
# types an annotation, `x.p += v` reads p too
# 11: getattr/hasattr/setattr/delattr of a constant name access a property, typing.cast(T, v)
# evaluates to T's instances (else v), a parameter's `if p is None: p = X` is its default, a
# parameter annotated Callable[...] is a parameter reference (parameter flow), not a type
VERSION = 11
# Distributions whose installed version changes this module's rows ("python": the
# interpreter); storage.incremental builds the ledger version from VERSION and these.
LIBRARIES = ("python",)  # ast changes with the interpreter

RECORDED_EXPRS = (
    ast.Call, ast.Lambda, ast.Yield, ast.YieldFrom, ast.Await, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.IfExp, ast.BoolOp, ast.NamedExpr,
)
_RECORDED = (ast.stmt, ast.ExceptHandler, *RECORDED_EXPRS)
# McCabe decision points; BoolOp adds len(values) - 1 and comprehensions add their `if`s.
_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler, ast.IfExp,
             ast.match_case)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

# What ast_rows does with a node, by its type (bits of _FLAGS[type(node)]).
_BRANCH, _BOOLOP, _COMPREHENSION, _STMT, _FUNCTION, _CLASS, _RECORD = (1 << i for i in range(7))
_FLAGS: dict[type, int] = {}


def _flags_of(node_type: type) -> int:
    return ((_BRANCH if issubclass(node_type, _BRANCHES) else 0)
            | (_BOOLOP if issubclass(node_type, ast.BoolOp) else 0)
            | (_COMPREHENSION if issubclass(node_type, ast.comprehension) else 0)
            | (_STMT if issubclass(node_type, ast.stmt) else 0)
            | (_FUNCTION if issubclass(node_type, (ast.FunctionDef, ast.AsyncFunctionDef)) else 0)
            | (_CLASS if issubclass(node_type, ast.ClassDef) else 0)
            | (_RECORD if issubclass(node_type, (ast.Module, *_RECORDED)) else 0))


def extract_ast(job: FileJob) -> dict[str, list[dict]]:
    """Rows of core.ast_nodes, core.ast_metrics, core.imports, core.call_sites,
    core.definition_refs, analytics.function_metrics and analytics.function_types for one
    Python file (read and parsed here; `extract.python_pass` shares one parse with more)."""
    source = read_python(job.abs_path)
    return ast_rows(job, source, ast.parse(source, filename=job.rel_path))


def ast_rows(job: FileJob, source: str, tree: ast.Module, defs: list[Visit] | None = None,
             strings: set[str] | None = None) -> dict[str, list[dict]]:
    """`extract_ast`'s rows from the file's `source` and its parsed `tree`. The same walk also
    appends to `defs` every visit that has a qualname (module, classes, functions) and adds to
    `strings` the value of every str constant, when they are given (the docstrings and
    string literals of `extract.python_pass`, without a walk of their own)."""
    lines = source_lines(source)
    # A final newline does not start another line (wc -l semantics); an empty file has line 1.
    last_line = max(1, len(lines) - (1 if lines[-1] == "" else 0))
    module = job.module or ""
    ident = {"repo": job.repo, "commit": job.commit, "rel_path": job.rel_path}
    is_package = module_is_package(job.rel_path)
    calls = FileCalls(module, is_package, lines)
    functions = FunctionMetrics()

    nodes: list[dict] = []
    imports: dict[tuple[int, str], dict] = {}
    ids: dict[str, int] = {}
    n_nodes = depth_sum = max_depth = n_funcs = n_classes = n_stmts = complexity = 0

    for visit in walk(tree, module):
        node, depth = visit.node, visit.depth
        node_type = type(node)
        if node_type is ast.Constant:
            if strings is not None and type(node.value) is str:
                strings.add(node.value)
        elif defs is not None and visit.qualname is not None:
            defs.append(visit)
        if node_type in VISITED_TYPES:
            calls.visit(visit)
        if node_type in VISITED:
            functions.visit(visit)
        n_nodes += 1
        depth_sum += depth
        if depth > max_depth:
            max_depth = depth
        # One lookup per node type instead of a chain of isinstance tests: most nodes are
        # leaves (names, constants, contexts) with no flag at all.
        flags = _FLAGS.get(node_type)
        if flags is None:
            flags = _FLAGS[node_type] = _flags_of(node_type)
        if not flags:
            continue
        if flags & _BRANCH:
            complexity += 1
        elif flags & _BOOLOP:
            complexity += len(node.values) - 1
        elif flags & _COMPREHENSION:
            complexity += len(node.ifs)
        if flags & _STMT:
            n_stmts += 1
        if flags & _FUNCTION:
            n_funcs += 1
        elif flags & _CLASS:
            n_classes += 1

        if node_type is ast.Module:
            row = _node_row(ident, "Module", 1, 0, last_line, len(lines[last_line - 1].encode()))
            row.update(module=module, qualname=module, kind="module", parent_qualname=None, depth=0,
                       docstring=ast.get_docstring(node), name=module, name_line=1, name_col=0)
        elif flags & _RECORD:
            row = _node_row(ident, node_type.__name__, node.lineno, node.col_offset,
                            node.end_lineno, node.end_col_offset)
            row.update(module=module, qualname=visit.qualname, kind=visit.kind, name=_name(node),
                       parent_qualname=visit.scope.qualname, depth=depth)
            if isinstance(node, _DEFS):
                row["docstring"] = ast.get_docstring(node)
                row["name_line"], row["name_col"] = name_position(lines, node)
                if node.decorator_list:
                    row["decorator_start_line"] = min(d.lineno for d in node.decorator_list)
                    row["decorator_end_line"] = max(d.end_lineno for d in node.decorator_list)
                row["decorators"] = json_text([ast.unparse(d) for d in node.decorator_list])
                if not isinstance(node, ast.ClassDef):
                    row.update(_annotations(node, visit.kind))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for imp in _imports(node, module, is_package, visit):
                    imports.setdefault((imp["lineno"], imp["imported"]), {**ident, **imp})
        else:
            continue
        # Same type and span twice (rare) would collide: suffix later ones to keep ids unique.
        seen = ids[row["node_id"]] = ids.get(row["node_id"], 0) + 1
        if seen > 1:
            row["node_id"] += f"#{seen}"
        nodes.append(row)

    try:
        definitions, call_rows = calls.definition_refs(), calls.call_rows()
    except RecursionError:  # pathological nesting: the file keeps its other rows
        definitions, call_rows = [], []
    # (line, col) is where the argument list opens: unique per call (see catalog)
    sites = {(site["line"], site["col"]): {**ident, **site} for site in call_rows}

    metrics = {
        **ident, "node_count": n_nodes, "function_count": n_funcs, "class_count": n_classes,
        "avg_depth": depth_sum / n_nodes, "max_depth": max_depth, "complexity": complexity,
        "loc": last_line if source else 0, "logical_loc": n_stmts,
    }
    # A stub with its .py beside it never runs: its defs are no functions to measure (the
    # module name says so, and the ledger's fingerprint holds it: rows follow its changes).
    function_rows, type_rows = functions.rows(job.repo, ident, lines) \
        if not shadowed_stub(job.rel_path, module) else ([], [])
    return {"core.ast_nodes": nodes, "core.ast_metrics": [metrics],
            "core.imports": list(imports.values()), "core.call_sites": list(sites.values()),
            "core.definition_refs": [{**ident, **d} for d in definitions],
            "analytics.function_metrics": function_rows, "analytics.function_types": type_rows}


def _node_row(ident: dict, node_type: str, l0: int, c0: int, l1: int, c1: int) -> dict:
    return {**ident, "node_id": f"{ident['rel_path']}:{node_type}:{l0}:{c0}:{l1}:{c1}",
            "node_type": node_type, "lineno": l0, "col_offset": c0, "end_lineno": l1,
            "end_col_offset": c1}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, _DEFS):
        return node.name
    if isinstance(node, ast.Call):
        return dotted_name(node.func)
    if isinstance(node, ast.Import):
        return ", ".join(a.name for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return "." * node.level + (node.module or "")
    if isinstance(node, ast.Assign):
        return dotted_name(node.targets[0])
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return dotted_name(node.target)
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return ", ".join(node.names)
    if isinstance(node, ast.ExceptHandler):
        return dotted_name(node.type) if node.type is not None else None
    return None


def _annotations(node: ast.FunctionDef | ast.AsyncFunctionDef, kind: str | None) -> dict:
    """Parameter and return annotation counts of a def (the bound self/cls excluded)."""
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs,
              *(a for a in (args.vararg, args.kwarg) if a is not None)]
    static = any((dotted_name(d) or "").rsplit(".", 1)[-1] == "staticmethod"
                 for d in node.decorator_list)
    if kind == "method" and not static and (args.posonlyargs or args.args):
        params.remove((args.posonlyargs or args.args)[0])
    return {"params_total": len(params),
            "params_annotated": sum(p.annotation is not None for p in params),
            "returns_annotated": node.returns is not None}


def _imports(node, module: str, is_package: bool, visit) -> list[dict]:
    common = {"lineno": node.lineno, "col_offset": node.col_offset, "module": module,
              "in_type_checking": visit.in_type_checking,
              "scope": "function" if visit.scope.in_function else "module"}
    if isinstance(node, ast.Import):
        return [{**common, "imported": a.name, "name": a.name, "asname": a.asname, "level": 0,
                 "is_star": False} for a in node.names]
    base = resolve_relative(module, is_package, node.level, node.module)
    out = []
    for a in node.names:
        star = a.name == "*"
        if star:
            imported = base
        elif base and not base.endswith("."):
            imported = f"{base}.{a.name}"
        else:
            imported = base + a.name
        out.append({**common, "imported": imported, "name": a.name, "asname": a.asname,
                    "level": node.level, "is_star": star})
    return out
