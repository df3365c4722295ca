"""core.call_sites and core.definition_refs (what the call graph links: bases, params,
returned definitions, aliases), from the ast of one file: the half of call resolution that one
file decides.

Python's name resolution is file-local up to the module boundary: which def, import, assignment
or parameter a name means in a scope (LEGB: local, enclosing functions, module, builtins; class
bodies are not enclosing scopes) is decided by the file alone. So this pass resolves every
callee as far as its file allows and writes the result as references, candidates in order:

    {"ref": "pkg.util.Client", "mode": "value", "attr": "().get", "via": "instance_method"}

`ref` is an absolute dotted name (a qualname of this file, or an import target), `attr` a path
applied to it (`.name` an attribute, `()` a call), `mode` says how to read `ref`:
value (the object named), super (`super().x` in class `ref`), param (parameter `attr`'s first
segment of function `ref`, see `param`/`index`), builtin (`builtins.len`).
graph.call_graph_edges (storage/callgraph.py) resolves these across files: re-exports, MRO,
constructors, returned functions, parameter flow.

The analysis is flow-insensitive, like PyCG's: every binding of a name in a scope counts, and a
name bound by something it does not model (a loop target, `with ... as`, an unpacking) is
opaque, so a call through it stays unresolved rather than guessed. Constant bindings
(`x = None`) are ignored: a constant is never the callee.
"""

from __future__ import annotations

import ast
import builtins

from codeintel_assets.extract import (
    call_branches,
    call_definitions,
    call_values,
    receiver_types,
)
from codeintel_assets.extract import implicit_calls as implicit
from codeintel_assets.extract.binding_cache import BindingCache
from codeintel_assets.extract.bindings import (
    OPAQUE,
    Binding,
    Scope,
    callables,
    classes_of,
    dedupe,
    extend,
    ref,
    signature,
)
from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.pysource import callee_name_position, dotted_name

_BUILTINS = frozenset(dir(builtins))
_MAX_DEPTH = 8  # alias chains (a = b; b = c ...) followed at most this deep
_NAME_MAX = 200


class FileCalls(implicit.ImplicitCalls):
    """Call sites and definition facts of one module's ast.

    Feed every Visit of pysource.walk (in order) to `visit`, then read `call_rows()` and
    `definition_refs()`. `lines` are the file's lines (pysource.source_lines): callee texts are
    cut from them."""

    def __init__(self, module: str, is_package: bool, lines: list[str]):
        super().__init__(module, is_package)
        self.lines = lines
        self._active: set[tuple[int, str]] = set()  # (scope, name) being resolved: cycles
        self._resolved = BindingCache()  # id(Binding) -> its references

    def _binding_scope(self, name: str, scope: Scope) -> Scope | None:
        """The scope whose binding of `name` a read in `scope` sees (LEGB; class bodies are
        not enclosing scopes; global/nonlocal declarations redirect)."""
        start = scope
        if name in scope.globals:
            scope = self.root
        elif name in scope.nonlocals:
            scope = scope.function_parent()
        while scope is not None:
            if name in scope.bindings and (scope is start or scope.kind != "class"):
                return scope
            scope = scope.parent
        return None

    def bindings_of(self, name: str, scope: Scope, line: int = 0) -> list[Binding] | None:
        found = self._binding_scope(name, scope)
        if found is None:
            return None
        return [b for b in found.bindings[name] if b.visible_at(line)] or None

    def _lookup(self, name: str, scope: Scope, depth: int, line: int = 0
                ) -> list[dict] | None:
        """References of `name` read in `scope` at `line`; None when a binding is opaque."""
        found = self._binding_scope(name, scope)
        if found is not None:
            visible = [b for b in found.bindings[name] if b.visible_at(line)]
            # a comprehension's, lambda's or isinstance block's own binding hides the scope's
            # others but those made after it starts, before `line` (`x = B()` after an assert)
            if spans := [b for b in visible if b.span is not None]:
                start = max(b.span[0] for b in spans)
                visible = [b for b in visible if not b.span and start < b.line <= line] or spans
            if visible:
                return self._bound(name, visible, found, scope, depth, line)
            # only comprehension/lambda bindings elsewhere: the name is read further out
            found = self._binding_scope(name, found.parent) if found.parent else None
            if found is not None:
                return self._bound(name, found.bindings[name], found, scope, depth, line)
        # Star imports first, in order, then builtins: the linker keeps the first star
        # candidate the star-imported module really defines, else the builtin.
        out = [ref(f"{m}.{name}", "star_import") for m in self.root.stars]
        if name in _BUILTINS:
            out.append(ref(f"builtins.{name}", "builtin", mode="builtin"))
        return out

    def _bound(self, name: str, bindings: list[Binding], scope: Scope, start: Scope,
               depth: int, line: int) -> list[dict] | None:
        """References of `bindings` of `name` in `scope`, read from `start` at `line`.
        Bindings that lead back to the name itself (`x = x.plus(y)`) or to nothing known are
        left out. When the rest disagree, the one that runs last is chosen, marked `last`
        (the edge's confidence drops to 0.6): outside `except` handlers (a handler's binding is
        kept as the `fallback` of a failed import), the last binding before `line` for a read
        in the same scope (module code runs top to bottom), else the last one (a function runs
        after its module)."""
        key = (id(scope), name)
        if key in self._active:  # a cycle: the answer is partial, as one the depth limit
            self._resolved.cut = True  # cuts (BindingCache keeps it per depth only)
            return []
        self._active.add(key)
        try:
            results = []
            for b in bindings:
                got = self._resolved.get(id(b), depth, lambda b=b: self._value_refs(
                    b.value, b.scope, depth + 1))
                if got is None:
                    return None
                results += [(b.line, got)] if got else []
        finally:
            self._active.discard(key)
        if len(results) > 1 and len({signature(got) for _, got in results}) > 1:
            tried = [r for r in results if not self._in_handler(r[0])]
            fallbacks = [r for r in results if self._in_handler(r[0])] if tried else []
            tried = tried or results
            before = [r for r in tried if r[0] < line] if scope is start else []
            at, got = max(before or tried, key=lambda r: r[0])
            results = [(at, [{**r, "last": True} for r in got])] + [
                (at, [{**r, "fallback": True} for r in got]) for at, got in fallbacks[-1:]]
        out = []
        for _, got in results:
            for r in got:
                if r["via"] == "local_name" and scope is not start:
                    r = {**r, "via": "module_global" if scope.kind == "module"
                         else "enclosing_scope"}
                out.append(r)
        return out

    def _in_handler(self, line: int) -> bool:
        return any(a <= line <= b for a, b in self.handler_spans)

    def _value_refs(self, value, where: Scope, depth: int) -> list[dict] | None:
        if value is OPAQUE:
            return None
        if isinstance(value, dict):
            via = "local_name" if value["via"] == "def" else value["via"]
            if value["mode"] == "param":  # `strategy=flat`: the default when none is passed
                return [value] + self.defaults.refs(self, value, depth)
            return [{**value, "via": via}]
        if isinstance(value, tuple):
            if value[0] in ("unpack", "each"):
                flow = call_values.unpacked if value[0] == "unpack" else call_values.each
                return flow(self, *value[1:3], value[3], depth)
            tag, expr, scope = value
            if tag in ("annotation", "isinstance"):  # x: Foo -> an instance of Foo
                return receiver_types.instances(self, tag, expr, scope, depth)
            return self._items(expr, scope, depth)
        if isinstance(value, ast.Lambda):
            return []
        refs = self.refs(value, where, depth)
        if refs is None:
            return None
        # f = helper: calling f calls helper; the binding is the rule that found it
        return [{**r, "via": "assigned_alias"} if r["mode"] == "value" and not r["attr"]
                and r["via"] in ("local_name", "module_global", "enclosing_scope",
                                 "import_alias")
                else r for r in refs]

    def _items(self, container: ast.expr, scope: Scope, depth: int) -> list[dict] | None:
        """References of the items of a container: a literal list/tuple/set/dict (values),
        a name bound to one (and the items added to it), a starred unpacking's rest."""
        if typed := receiver_types.element_instances(self, container, scope, depth):
            return typed  # `xs: list[A]`: instances of A
        if isinstance(container, ast.Name) and depth < _MAX_DEPTH:
            for b in self.bindings_of(container.id, scope, container.lineno) or ():
                if isinstance(b.value, tuple) and b.value[0] == "unpack" \
                        and isinstance(b.value[2][-1], tuple):
                    return call_values.starred_items(self, *b.value[1:3], b.value[3], depth)
        return call_values.items(self, container, scope, depth)

    def refs(self, expr: ast.expr, scope: Scope, depth: int = 0) -> list[dict] | None:
        """Candidate references of the value `expr` evaluates to in `scope`: [] when unknown,
        None when a binding on the way is opaque."""
        if depth > _MAX_DEPTH:
            self._resolved.cut = True  # a partial answer: not the binding's (BindingCache)
            return None
        if isinstance(expr, ast.Name):
            return self._lookup(expr.id, scope, depth, expr.lineno)
        if isinstance(expr, ast.Attribute):
            base = self.refs(expr.value, scope, depth + 1)
            if base is None:
                return None
            if expr.attr == "__class__":  # an instance's class
                return classes_of(base)
            if not base:  # `"-".join`, `counts.items` of a dict literal: a builtin's method
                return call_values.literal_method(self, expr, scope)
            out = []
            for r in base:
                if r["mode"] == "builtin":
                    continue
                if (r["attr"] in ("()", "") and r["mode"] == "value" and r["ref"] in self.scopes
                        and self.scopes[r["ref"]].kind == "class"
                        and expr.attr in self.scopes[r["ref"]].self_attrs):
                    # self.client.get: the class's own `self.client = ...` assignments
                    cls = self.scopes[r["ref"]]
                    for b in cls.self_attrs[expr.attr]:
                        got = self._value_refs(b.value, b.scope, depth + 1)
                        if got is None:
                            return None
                        out += [{**g, "via": "instance_method"} for g in got]
                    continue
                via = r["via"]
                if via in ("self_method", "cls_method") and r["attr"] not in ("", "()"):
                    via = "instance_method"
                elif via not in ("self_method", "cls_method", "super", "import_alias",
                                 "star_import", "parameter"):
                    via = "instance_method" if "()" in r["attr"] else "attribute"
                out.append(extend(r, f".{expr.attr}", via))
            return out
        if isinstance(expr, ast.Call):
            if (isinstance(expr.func, ast.Name) and expr.func.id == "super"
                    and self.bindings_of("super", scope) is None):
                if expr.args:  # super(X, self): the MRO after class X
                    named = self.refs(expr.args[0], scope, depth + 1) or []
                    return [ref(r["ref"], "super", mode="super", exact=r.get("exact", False))
                            for r in named if r["mode"] == "value" and not r["attr"]][:1]
                cls = _enclosing_class(scope)
                return [ref(cls.qualname, "super", mode="super", exact=True)] if cls else []
            if (isinstance(expr.func, ast.Name) and expr.func.id == "type"
                    and len(expr.args) == 1 and not expr.keywords
                    and self.bindings_of("type", scope) is None):  # type(x): x's class
                base = self.refs(expr.args[0], scope, depth + 1)
                return None if base is None else classes_of(base)
            if isinstance(expr.func, ast.Attribute) and expr.func.attr == "get" and expr.args:
                got = call_values.get_item(self, expr, scope, depth)
                if got:
                    return got
            if (got := receiver_types.getattr_refs(self, expr, scope, depth)) is not None:
                return got  # getattr(self, "visit_" + kind): a method by its name
            if (copied := call_values.copied(self, expr, scope)) is not None:
                return self.refs(copied, scope, depth + 1)  # list(xs), sorted(xs): xs's items
            lambdas = self.bindings_of(expr.func.id, scope, expr.lineno) or [] \
                if isinstance(expr.func, ast.Name) else []
            if lambdas and all(isinstance(b.value, ast.Lambda) for b in lambdas):
                # `pick = lambda: square; pick()`: what the lambda's body evaluates to
                return [r for b in lambdas for r in self.refs(b.value.body, b.scope, depth + 1)
                        or ()]
            base = self.refs(expr.func, scope, depth + 1)
            if base is None:
                return None
            if (cast := receiver_types.cast_refs(self, expr, base, scope, depth)) is not None:
                return cast  # t.cast(T, v): v, else a T
            out = [extend(r, "()", "returned_value" if r["via"] != "self_method"
                          else r["via"]) for r in base if r["mode"] != "builtin"]
            consts = call_branches.constant_args(expr)
            if consts is None:
                return out
            # what the callee returns may depend on them (call_branches.return_guards)
            return [{**r, "consts": [*r.get("consts", ()), [len(r["attr"]) - 2, consts]]}
                    for r in out]
        if isinstance(expr, ast.Subscript):  # an item under a constant key, else any item
            if isinstance(expr.slice, ast.Slice):
                return []
            if isinstance(expr.value, ast.Subscript):
                return call_values.nested_item(self, expr, scope, depth) or []
            key = expr.slice.value if isinstance(expr.slice, ast.Constant) else None
            return call_values.items(self, expr.value, scope, depth + 1, key) or []
        if isinstance(expr, ast.NamedExpr):
            return self.refs(expr.value, scope, depth + 1)
        if isinstance(expr, ast.IfExp):  # `f if c else g`: either
            body, orelse = (self.refs(e, scope, depth + 1) for e in (expr.body, expr.orelse))
            return None if body is None or orelse is None else body + orelse
        return implicit.operator_refs(self, expr, scope, depth)  # `v + w`: v.__add__()

    def call_rows(self) -> list[dict]:
        """core.call_sites rows (without repo/commit/rel_path) of every recorded call."""
        rows = []
        for node, scope, is_decorator, decorated in self.calls:
            if is_decorator:  # called with the decorated def as its one argument
                line, col = node.end_lineno, node.end_col_offset
                refs = [{**r, "via": "decorator"} for r in self.refs(node, scope) or ()]
                # called with the def, or with what the decorator below it returned
                passed = [extend(r, "()", "returned_value") for r in callables(
                    self.refs(decorated, scope))] if isinstance(decorated, ast.expr) \
                    else [ref(decorated, "local_name")]
                args = [{"pos": 0, "kw": None, "refs": dedupe(passed)}]
                name_pos = (None, None) if isinstance(node, ast.Call) else callee_name_position(node)
                text = self._text(node)
            else:
                expr = node.func
                line, col = expr.end_lineno, expr.end_col_offset
                refs = self.refs(expr, scope) or []
                refs = refs + call_values.callback_refs(self, node, refs, scope)
                # a builtin's arguments flow into no parameter: its call arguments are data
                args = _args(node, scope, self, not refs or any(
                    r["mode"] != "builtin" for r in refs))
                name_pos = callee_name_position(expr)
                text = self._text(expr)
            rows.append({
                "line": line, "col": col, "module": self.module,
                "caller_qualname": scope.qualname, "callee_name": text,
                "name_line": name_pos[0], "name_col": name_pos[1],
                "is_decorator": is_decorator, "refs": json_text(dedupe(refs)),
                "args": json_text(args) if args else "[]",
            })
        return implicit.merged(rows + call_values.statement_rows(self) + self.implicit_rows())

    def _text(self, expr: ast.expr) -> str:
        """The callee as written: a dotted name, else its source text on one line, cut to
        _NAME_MAX characters (cut from the lines: ast.unparse recurses on long chains)."""
        text = dotted_name(expr)
        if text is None:
            first = self.lines[expr.lineno - 1].encode()
            if expr.lineno == expr.end_lineno:
                raw = first[expr.col_offset:expr.end_col_offset]
            else:
                last = self.lines[expr.end_lineno - 1].encode()[:expr.end_col_offset]
                middle = [ln.encode() for ln in self.lines[expr.lineno:expr.end_lineno - 1]]
                raw = b" ".join([first[expr.col_offset:], *middle, last])
            text = " ".join(raw.decode(errors="replace").split())
        return text if len(text) <= _NAME_MAX else text[: _NAME_MAX - 3] + "..."

    def definition_refs(self) -> list[dict]:
        """core.definition_refs rows: call_definitions.rows and implicit.property_rows."""
        return call_definitions.rows(self) + implicit.property_rows(self.defs)


def _enclosing_class(scope: Scope) -> Scope | None:
    """The class a method (or a function nested in one) belongs to: what `super()` means."""
    while scope is not None and scope.kind != "method":
        scope = scope.parent
    return scope.parent if scope is not None and scope.parent.kind == "class" else None


# Arguments that may be a function or class (what parameter flow follows): names, attributes
# and lambdas. Literals and arithmetic never are; a subscript's result seldom is,
# and resolving every argument would cost more than the rest of the pass.
# Container literals are followed for their items (a list of handlers passed on).
# A call whose callee is such a name is followed too: a factory's result (`all_of(in_range(1,
# 2))`, a closure) or a constructor's instance passed on.
_MAYBE_CALLABLE = (ast.Name, ast.Attribute, ast.Lambda, ast.List, ast.Tuple, ast.Dict, ast.Set,
                   ast.Call)


def _args(node: ast.Call, scope: Scope, calls: FileCalls, results: bool = True
          ) -> list[dict]:
    """The arguments of a call that may be callables, with their references ([] when
    unknown: a lambda, a variable...), so parameter flow can tell a known function passed at
    a position from an unknown one. Only names the file binds to a def, class or import (or
    self/cls) are looked up: the other arguments are data, and resolving them all would cost
    more than the rest of the pass."""
    out = []
    for i, a in enumerate(node.args):
        if isinstance(a, ast.Starred):  # positions after *args are unknown
            spread = [r for r in calls.refs(a.value, scope) or ()
                      if r["mode"] == "param" and r.get("star") and not r["attr"]] \
                if isinstance(a.value, ast.Name) else []
            if spread:  # its own *args passed on: parameter flow follows them
                out.append({"pos": i, "kw": None, "refs": spread, "spread": True,
                            "call": False})
            break
        if isinstance(a, _MAYBE_CALLABLE) and (results or not isinstance(a, ast.Call)):
            out.append({"pos": i, "kw": None, "refs": _arg_refs(a, scope, calls),
                        "call": isinstance(a, ast.Call)})
    for k in node.keywords:
        if k.arg and isinstance(k.value, _MAYBE_CALLABLE) and (
                results or not isinstance(k.value, ast.Call)):
            out.append({"pos": None, "kw": k.arg, "refs": _arg_refs(k.value, scope, calls),
                        "call": isinstance(k.value, ast.Call)})
    # a call's result that is nothing known is data: no entry (the rows stay small)
    return [{k: v for k, v in a.items() if k != "call"} for a in out
            if a["refs"] or not a["call"]]


def _arg_refs(arg: ast.expr, scope: Scope, calls: FileCalls) -> list[dict]:
    if isinstance(arg, call_values.CONTAINERS) or (
            isinstance(arg, ast.Name) and arg.id in calls.container_names):
        return call_values.argument_items(calls, arg, scope)
    head = arg
    while isinstance(head, (ast.Attribute, ast.Call)):  # Store().get: a method of an instance
        head = head.value if isinstance(head, ast.Attribute) else head.func
    if not isinstance(head, ast.Name) or head.id not in calls.callable_names:
        return []
    return dedupe(callables(calls.refs(arg, scope)))
