"""Pass 1 of call resolution (extract/calls.py): the scopes of one module's ast and every
name each binds (defs, imports, assignments, parameters, loop targets), collected while
pysource.walk visits the tree. Resolution reads them after the walk, so it is
flow-insensitive: every binding of a name in a scope counts."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codeintel_assets.extract.pysource import Visit, dotted_name, resolve_relative

OPAQUE = "opaque"  # a binding the analysis does not model: reads through it stay unresolved
# The node types visit() handles; every other node is skipped by one set lookup.
_BINDING_TYPES = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Call, ast.Import, ast.ImportFrom,
    ast.Global, ast.Nonlocal, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr,
    ast.Return, ast.For, ast.AsyncFor, ast.comprehension, ast.With, ast.AsyncWith,
    ast.ExceptHandler, ast.Lambda,
})


@dataclass
class Scope:
    qualname: str
    kind: str  # module | class | function | method
    parent: Scope | None
    node: ast.AST | None = None
    # name -> [(value: expr | ref dict | tagged tuple | OPAQUE, scope it is read in, line)]
    bindings: dict[str, list] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)  # star-imported modules (module scope)
    explicit_global: set[str] = field(default_factory=set)
    self_attrs: dict[str, list] = field(default_factory=dict)  # class: self.x = / x = bindings
    params: list[str] = field(default_factory=list)  # a def's parameter names in call order

    def bind(self, name: str, value, line: int) -> None:
        self.bindings.setdefault(name, []).append((value, self, line))


def ref(ref: str, via: str, mode: str = "value", attr: str = "", **extra) -> dict:
    return {"ref": ref, "mode": mode, "attr": attr, "via": via, **extra}


class ScopeBindings:
    """Scopes and bindings of one module: feed every Visit of pysource.walk, in order, to
    `visit`."""

    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.is_package = is_package
        self.root = Scope(module, "module", None)
        self.scopes: dict[str, Scope] = {module: self.root}
        # (Call node or decorator expression, scope, is_decorator, decorated def's qualname)
        self.calls: list[tuple[ast.AST, Scope, bool, str | None]] = []
        self.defs: list[tuple[ast.AST, Scope]] = []
        self.returns: dict[str, list[ast.expr]] = {}
        self.handler_spans: list[tuple[int, int]] = []  # except handlers' (first, last) lines
        self.assigns: dict[tuple[int, int], tuple[ast.expr, Scope]] = {}  # module/class `x = v`
        self.line = 0  # line of the node being visited: where its bindings happen
        self._active: set[tuple[int, str]] = set()  # (scope, name) being resolved: cycles

    # ---- pass 1: bindings, collected while walking -------------------------------------

    def visit(self, v: Visit) -> None:
        node = v.node
        if type(node) not in _BINDING_TYPES:  # most nodes (names, constants...) bind nothing
            return
        scope = self.scopes.get(v.scope.qualname, self.root)
        self.line = getattr(node, "lineno", None) or getattr(node.target, "lineno", 0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = Scope(v.qualname, v.kind, scope, node)
            self.scopes[v.qualname] = inner
            # exact: this very definition (`f#2` is not `f`, whatever runs last)
            scope.bind(node.name, ref(v.qualname, "def", exact=True), self.line)
            self.defs.append((node, inner))
            for dec in node.decorator_list:
                # `@dec` calls dec with the def; `@factory(x)` calls the factory's result
                self.calls.append((dec, scope, True, v.qualname))
            if not isinstance(node, ast.ClassDef):
                self._bind_params(node, inner, scope)
        elif isinstance(node, ast.Call):
            self.calls.append((node, scope, False, None))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    scope.bind(a.asname, ref(a.name, "import_alias"), self.line)
                else:
                    head = a.name.split(".")[0]
                    scope.bind(head, ref(head, "import_alias"), self.line)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(self.module, self.is_package, node.level, node.module)
            for a in node.names:
                if a.name == "*":
                    scope.stars.append(base)
                else:
                    sep = "" if not base or base.endswith(".") else "."
                    scope.bind(a.asname or a.name, ref(f"{base}{sep}{a.name}", "import_alias"),
                               self.line)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            scope.explicit_global.update(node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            self._bind_assign(node, scope)
        elif isinstance(node, ast.Return) and node.value is not None:
            self.returns.setdefault(scope.qualname, []).append(node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self._bind_loop(node.target, node.iter, scope)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bind_opaque(item.optional_vars, scope)
        elif isinstance(node, ast.ExceptHandler):
            self.handler_spans.append((node.lineno, node.end_lineno))
            if node.name:
                scope.bind(node.name, OPAQUE, self.line)
        elif isinstance(node, ast.Lambda):  # its parameters shadow names inside its body
            for a in ast.walk(node.args):
                if isinstance(a, ast.arg):
                    scope.bind(a.arg, OPAQUE, self.line)

    def _bind_params(self, node, inner: Scope, outer: Scope) -> None:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        names = [a.arg for a in positional]
        decorators = {(dotted_name(d) or "").rsplit(".", 1)[-1] for d in node.decorator_list}
        bound = outer.kind == "class" and "staticmethod" not in decorators and positional
        for i, a in enumerate(positional):
            if i == 0 and bound:
                cls = outer.qualname
                if "classmethod" in decorators:
                    inner.bind(a.arg, ref(cls, "cls_method"), self.line)
                else:
                    inner.bind(a.arg, ref(cls, "self_method", attr="()"), self.line)
            elif a.annotation is not None:
                inner.bind(a.arg, ("annotation", a.annotation, outer), self.line)
            else:
                inner.bind(a.arg, ref(inner.qualname, "parameter", mode="param",
                                       param=a.arg, index=i), self.line)
        for a in (args.vararg, args.kwarg):
            if a is not None:
                inner.bind(a.arg, OPAQUE, self.line)
        for a in args.kwonlyargs:
            inner.bind(a.arg, ("annotation", a.annotation, outer) if a.annotation is not None
                       else ref(inner.qualname, "parameter", mode="param", param=a.arg,
                                 index=None), self.line)
        names += [a.arg for a in (args.vararg,) if a] + [a.arg for a in args.kwonlyargs] \
            + [a.arg for a in (args.kwarg,) if a]
        inner.params = names

    def _bind_assign(self, node, scope: Scope) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if isinstance(node, ast.AugAssign) or value is None:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                scope.bind(node.target.id, ("annotation", node.annotation, scope), self.line)
            elif isinstance(node.target, ast.Name):
                scope.bind(node.target.id, OPAQUE, self.line)
            return
        if isinstance(value, ast.Constant):
            return
        if (len(targets) == 1 and isinstance(targets[0], ast.Tuple)
                and isinstance(value, ast.Tuple) and len(value.elts) == len(targets[0].elts)
                and not any(isinstance(e, ast.Starred) for e in value.elts)):
            targets, values = targets[0].elts, value.elts  # a, b = C(), D(): pairwise
        else:
            values = [value] * len(targets)
        if (scope.kind in ("module", "class") and len(targets) == 1
                and isinstance(targets[0], ast.Name)):  # what other files can import or inherit
            self.assigns[(node.lineno, node.col_offset)] = (value, scope)
        for t, value in zip(targets, values, strict=True):
            if isinstance(t, ast.Name):
                scope.bind(t.id, value, self.line)
                if scope.kind == "class":  # a class attribute: self.x() / Cls.x() read it
                    scope.self_attrs.setdefault(t.id, []).append((value, scope, self.line))
            elif (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                  and scope.kind == "method" and scope.parent is not None
                  and _first_param(scope.node) == t.value.id):
                scope.parent.self_attrs.setdefault(t.attr, []).append((value, scope,
                                                                       self.line))
            elif isinstance(t, (ast.Tuple, ast.List, ast.Starred)):
                self._bind_opaque(t, scope)
            # x.attr = v and x[k] = v bind no name: x is read, not rebound

    def _bind_loop(self, target, iterable, scope: Scope) -> None:
        if isinstance(target, ast.Name):  # `for h in handlers:` -> every item of handlers
            scope.bind(target.id, ("items", iterable, scope), self.line)
        else:
            self._bind_opaque(target, scope)

    def _bind_opaque(self, target, scope: Scope) -> None:
        for n in ast.walk(target):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                scope.bind(n.id, OPAQUE, self.line)


def _first_param(node) -> str | None:
    args = getattr(node, "args", None)
    positional = [*args.posonlyargs, *args.args] if args else []
    return positional[0].arg if positional else None
