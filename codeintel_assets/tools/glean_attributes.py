"""Instance attributes for the Glean conversion (docs/indexers.md B1): pyrefly 1.4.1 never
declares `self.x = ...`, so references to `x` have no target. scip-python defines such an
attribute at its first store in the class's methods; this module finds those stores with `ast`
and returns them as declarations for tools/glean_scip.convert. No dagster import.

Why `ast` here and not core.ast_nodes: the step runs in the index's own process with only the
facts and the tree at hand, a file is parsed only when pyrefly declared a class in it, and
an update then needs exactly the files it indexes (the tables of the other files may be of
another snapshot).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection

from codeintel_assets.tools.glean_facts import ByteLines, Decl, GleanFacts


def instance_attributes(facts: GleanFacts, files: Collection[str],
                        byte_lines: Callable[[str], ByteLines]) -> list[Decl]:
    """One `variable` declaration `<class>.<attr>` per attribute that a method of a class
    pyrefly declared in `files` stores on its first parameter (`self.x = `, `cls.x += `,
    `self.a, self.b = `, `self.x: int = `), at the first such store in source order (its
    attribute token; span = the name's bytes), unless the facts declare that name already
    (a class-level attribute). A class is matched to its ast node by the byte offset of its
    statement (the start of Glean's span). Files that do not parse give none."""
    declared = {d.name for d in facts.decls}
    classes: dict[str, dict[int, str]] = {}
    for d in facts.decls:
        if d.kind == "cls" and d.rel_path in files:
            classes.setdefault(d.rel_path, {})[d.start] = d.name
    out: list[Decl] = []
    for rel, by_start in sorted(classes.items()):
        lines = byte_lines(rel)
        try:
            tree = ast.parse(lines.data)
        except (SyntaxError, ValueError):
            continue
        for node in _classes(tree):
            name = by_start.get(lines.starts[node.lineno - 1] + node.col_offset)
            if name is None:
                continue
            first: dict[str, int] = {}
            for method in node.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    _stores(method, lines, first)
            out.extend(Decl("variable", f"{name}.{attr}", rel, start, len(attr.encode()))
                       for attr, start in sorted(first.items(), key=lambda kv: kv[1])
                       if f"{name}.{attr}" not in declared)
    return out


def _classes(tree: ast.Module):
    """Every ClassDef of `tree`, breadth first along statement bodies only: a class is a
    statement, and no expression holds one, so the expressions (most of the nodes) are not
    walked."""
    queue = [tree]
    for node in queue:
        if isinstance(node, ast.ClassDef):
            yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                queue.extend(children)


def _stores(method: ast.FunctionDef | ast.AsyncFunctionDef, lines: ByteLines,
            first: dict[str, int]) -> None:
    """Byte offset of the first store of each attribute on `method`'s first parameter."""
    params = [*method.args.posonlyargs, *method.args.args]
    if not params:
        return
    receiver = params[0].arg
    for node in ast.walk(method):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.value, ast.Name) and node.value.id == receiver:
            offset = lines.starts[node.end_lineno - 1] + node.end_col_offset - \
                len(node.attr.encode())
            if offset < first.get(node.attr, offset + 1):
                first[node.attr] = offset
