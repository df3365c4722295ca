"""core.definition_refs rows of one file (extract/calls.py's FileCalls resolves the
references): per class its bases, per def its params and return_refs (with the conditions on
constant arguments under which it returns each: extract/call_branches.py), per abstract
method a row of kind abstract (storage/call_dispatch.py keeps a base method's edge unless it
is abstract), per module- or class-level name an alias row (the last assignment's value_refs;
for a name defined in several branches, the definitions that may be bound)."""

from __future__ import annotations

import ast
import json

from codeintel_assets.extract import call_branches, call_values, receiver_types
from codeintel_assets.extract.bindings import callables, dedupe, ref
from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.pysource import dotted_name


def rows(calls) -> list[dict]:
    """core.definition_refs rows (without repo/commit/rel_path): one per class and def
    (bases; params, return_refs), one per module- or class-level alias (value_refs: what
    `from m import name` or an inherited attribute resolves to; the last assignment)."""
    rows = []
    for node, inner in calls.defs:
        if isinstance(node, ast.ClassDef):
            bases = [dedupe(calls.refs(b, inner.parent) or []) for b in node.bases]
            rows.append({"qualname": inner.qualname, "kind": "class",
                         "bases": json_text(bases)})
        else:
            returned: list[dict] = []
            exprs = calls.returns.get(inner.qualname, ())
            guards = call_branches.return_guards(node, inner.params) \
                if len(exprs) > 1 else {}
            for expr in _decorator_or_applied(exprs):
                when = {"when": guards[id(expr)]} if id(expr) in guards else {}
                returned += [{**r, **when} for r in callables(calls.refs(expr, inner))]
                returned += call_values.stored_items(calls, expr, inner)
            if node.returns is not None:  # `-> Line` when nothing else, `-> Iterator[Line]`
                typed, items = receiver_types.declared_returns(calls, node.returns, inner.parent)
                returned += items + ([] if returned else typed)
            rows.append({"qualname": inner.qualname, "kind": "function",
                         "params": json_text(inner.params), "arity": inner.arity,
                         "return_refs": json_text(dedupe(returned))})
            if inner.kind == "method" and _abstract(node):
                rows.append({"qualname": inner.qualname, "kind": "abstract"})
    aliases: dict[str, dict] = {}
    for (value, scope, name) in calls.assigns:
        got = callables(calls.refs(value, scope)) + (call_values.stored_items(
            calls, value, scope, name) if scope.kind == "module" else []) + \
            receiver_types.alias_classes(calls, value, scope)
        aliases[f"{scope.qualname}.{name}"] = {
            "qualname": f"{scope.qualname}.{name}", "kind": "alias",
            "value_refs": json_text(dedupe(got)) if got else None}
    aliases.update(_live_defs(calls, aliases))  # one row per qualname (the table's key)
    aliases.update(attribute_rows(calls, aliases))
    return rows + [a for a in aliases.values() if a["value_refs"]]


def attribute_rows(calls, aliases: dict[str, dict]) -> dict[str, dict]:
    """Qualname -> the alias row `C.x` of an instance attribute of class C that holds
    instances (receiver_types.attribute_refs: declared, else assigned), so `obj.x.m()` in
    another file follows it; a declared type replaces the row of the class-level value
    (`mode: Mode = field(...)`), assigned instances join it. Names a def of the class binds
    are left to it."""
    out = {}
    for cls in [s for s in calls.scopes.values() if s.kind == "class"]:
        for name, bindings in cls.self_attrs.items():
            qualname = f"{cls.qualname}.{name}"
            got = receiver_types.attribute_refs(calls, bindings)
            if not got or qualname in calls.scopes:
                continue
            declared = any(isinstance(b.value, tuple) and b.value[0] == "annotation"
                           for b in bindings)
            old = aliases.get(qualname, {}).get("value_refs")
            kept = [] if declared or not old else json.loads(old)
            out[qualname] = {"qualname": qualname, "kind": "alias",
                             "value_refs": json_text(dedupe(kept + got))}
    return out


def _decorator_or_applied(exprs: list[ast.expr]) -> list[ast.expr]:
    """A def's returned expressions without `d(...)` when it also returns `d` itself, a
    name or a call of one (`if func is not None: return decorator(func)` / `return
    decorator`; `return command(cls=cls)(name)` / `return command(name, cls)`): a decorator
    usable with and without parentheses. Which one runs depends on whether the argument is a
    callable, which the analysis does not know; `@factory(...)`, the spelling with
    parentheses, gets the decorator (with both, its result's methods were callees of every
    decorated def: click's `@click.command()` reached BaseCommand.__call__)."""
    shapes = {_shape(e) for e in exprs} - {None}
    return [e for e in exprs if not (isinstance(e, ast.Call) and _shape(e.func) in shapes)]


def _shape(expr: ast.expr) -> tuple | None:
    """A name, or a call of a shape (arguments left out); None for anything else."""
    if isinstance(expr, ast.Name):
        return ("name", expr.id)
    inner = _shape(expr.func) if isinstance(expr, ast.Call) else None
    return None if inner is None else ("call", inner)


def _abstract(node: ast.AST) -> bool:
    """A method no instance runs as its own: decorated `abstractmethod` (any dotted spelling),
    or whose body is only a docstring, `...`, `pass` or `raise NotImplementedError[(...)]`."""
    for dec in node.decorator_list:
        if (dotted_name(dec) or "").rpartition(".")[2] == "abstractmethod":
            return True
    for stmt in node.body:
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(
                stmt.value, ast.Constant) and (stmt.value.value is Ellipsis
                                               or isinstance(stmt.value.value, str))):
            continue
        exc = stmt.exc.func if isinstance(stmt, ast.Raise) and isinstance(
            stmt.exc, ast.Call) else getattr(stmt, "exc", None)
        if not (isinstance(stmt, ast.Raise) and isinstance(exc, ast.Name)
                and exc.id == "NotImplementedError"):
            return False
    return True


def _live_defs(calls, aliases: dict[str, dict]) -> dict[str, dict]:
    """Qualname -> the alias row of a name a module or class body defines more than once
    (defs, or a def and an assignment) where the definition bound after the body ran is not
    simply the last def (branches of an `if`, a version check): value_refs name the defs
    that may be bound (exact), and, when an assignment may be the binding, the references
    of `aliases`' row of the name (its last assignment). A name whose binding is the last
    def alone gets value_refs None (no alias: an assignment before it is dead)."""
    qualnames = {id(node): inner.qualname for node, inner in calls.defs}
    owners = {q.partition("#")[0].rpartition(".")[0] for q in qualnames.values()
              if "#" in q or q in aliases}
    if not owners or calls.tree is None:
        return {}
    last: dict[str, str] = {}  # plain qualname -> its last definition's (source order)
    for q in qualnames.values():
        last[q.partition("#")[0]] = q
    bodies = [(calls.module, calls.tree.body)] if calls.module in owners else []
    bodies += [(inner.qualname, node.body) for node, inner in calls.defs
               if isinstance(node, ast.ClassDef) and inner.qualname in owners]
    rows = {}
    for owner, body in bodies:
        for name, nodes in call_branches.live_definitions(body).items():
            qualname = f"{owner}.{name}"
            live = [qualnames[id(n)] for n in nodes if id(n) in qualnames]
            assigned = qualname in aliases and any(id(n) not in qualnames for n in nodes)
            if not live or (live == [last.get(qualname)] and qualname not in aliases):
                continue
            other = json.loads(aliases[qualname]["value_refs"] or "[]") if assigned else []
            refs = [ref(q, "local_name", exact=True) for q in live] + other
            rows[qualname] = {"qualname": qualname, "kind": "alias",
                              "value_refs": json_text(dedupe(refs))
                              if other or live != [last.get(qualname)] else None}
    return rows


