"""Pass 1 of call resolution (extract/calls.py): the scopes of one module's ast and every
name each binds (defs, imports, assignments, parameters, loop and match targets), collected
while pysource.walk visits the tree. Resolution reads them after the walk, so it is
flow-insensitive: every binding of a name in a scope counts (calls.py decides between
disagreeing ones).

`global x` binds x in the module, `nonlocal x` in the nearest enclosing function that binds
it. Comprehension targets and lambda parameters live in scopes of their own in Python; here
they are bindings of the enclosing scope restricted to the lines of the comprehension or
lambda (`span`), so they neither leak out nor hide outer names elsewhere."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codeintel_assets.extract.pysource import (
    Visit,
    dotted_name,
    is_callable_annotation,
    resolve_relative,
)

OPAQUE = "opaque"  # a binding the analysis does not model: reads through it stay unresolved
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# The node types visit() handles; every other node is skipped by one set lookup (callers
# walking a whole tree test it first, saving a method call per node).
BINDING_TYPES = frozenset({
    ast.Module,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Call, ast.Import, ast.ImportFrom,
    ast.Global, ast.Nonlocal, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr,
    ast.Return, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.ExceptHandler, ast.Lambda,
    ast.Raise,
    ast.MatchAs, ast.MatchStar, ast.MatchMapping, *_COMPREHENSIONS,
})


@dataclass(frozen=True)
class Binding:
    """One binding of a name. `value` is an ast expression (what was assigned), a reference
    dict (a def, import, parameter, self/cls), ("annotation" | "items", expr, scope) for an
    annotated name or a loop target, ("unpack", expr, path, scope) for a name of an unpacking
    target (ScopeBindings._bind_unpack), ("each", iterable, path, scope) for a name of a loop's
tuple target (the item at `path` of each item), or OPAQUE. `scope` is where `value` is evaluated; `line`
    where the binding happens; `span` the (first, last) lines it is visible on, None for the
    whole scope."""

    value: object
    scope: Scope
    line: int
    span: tuple[int, int] | None = None

    def visible_at(self, line: int) -> bool:
        return self.span is None or not line or self.span[0] <= line <= self.span[1]


@dataclass
class Scope:
    """A module, class or def body: the names it binds (bindings.Scope; pysource.Scope is the
    walker's view of the same thing)."""

    qualname: str
    kind: str  # module | class | function | method
    parent: Scope | None
    node: ast.AST | None = None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)  # star-imported modules (module scope)
    globals: set[str] = field(default_factory=set)  # `global` names
    nonlocals: set[str] = field(default_factory=set)  # `nonlocal` names
    self_attrs: dict[str, list[Binding]] = field(default_factory=dict)  # class attributes
    params: list[str] = field(default_factory=list)  # a def's parameter names in call order
    arity: int = 0  # a def's parameters, the bound self/cls excluded

    def function_parent(self) -> Scope | None:
        """The nearest enclosing scope that is not a class body (what a def's body sees)."""
        scope = self.parent
        while scope is not None and scope.kind == "class":
            scope = scope.parent
        return scope


def ref(ref: str, via: str, mode: str = "value", attr: str = "", **extra) -> dict:
    """A reference (extract/calls.py's module docstring): what a name or expression means."""
    return {"ref": ref, "mode": mode, "attr": attr, "via": via, **extra}


def signature(refs: list[dict]) -> tuple:
    """What the references point at, order-free: equal signatures are the same answer."""
    return tuple(sorted((r["ref"], r["mode"], r["attr"]) for r in refs))


def callables(refs: list[dict] | None) -> list[dict]:
    """The references a call graph can follow (builtins are leaves)."""
    return [r for r in refs or () if r["mode"] != "builtin"]


def classes_of(refs: list[dict]) -> list[dict]:
    """The classes of instances: `C()` -> `C` (type(x), x.__class__)."""
    return [{**r, "attr": r["attr"][:-2]} for r in refs if r["attr"].endswith("()")]


def extend(r: dict, attr: str, via: str) -> dict:
    """`r` with `attr` appended to its path (`.name`, `()`), found by rule `via`."""
    return {**r, "attr": r["attr"] + attr, "via": via}


def dedupe(refs: list[dict]) -> list[dict]:
    """`refs` without repeats, first occurrence kept (the order is preference)."""
    seen, out = set(), []
    for r in refs:
        k = (r["ref"], r["mode"], r["attr"], r.get("param"), r.get("item"), "item" in r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


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
        self.tree: ast.Module | None = None
        self.returns: dict[str, list[ast.expr]] = {}
        self.handler_spans: list[tuple[int, int]] = []  # except handlers' (first, last) lines
        self.assigns: list[tuple[ast.expr, Scope, str]] = []  # module/class `name = value`
        # Statements that call without an ast.Call: (protocol, expression, scope) of every
        # `with` item (with), `for`/comprehension iterable (for), `raise X` without a call.
        self.statements: list[tuple[str, ast.expr, Scope]] = []
        # Items put into a named container after its binding: (name, scope, key or None,
        # value) of `d[k] = v`, `d.update({k: v})`, `xs.append(v)`, `xs.extend([...])`.
        self.adds: list[tuple[str, Scope, object, ast.expr]] = []
        # The same into any other receiver (`self.hooks[when].append(f)`): (receiver, scope,
        # key, value); extract/call_values.py reads those on an instance's attribute.
        self.attr_adds: list[tuple[ast.expr, Scope, object, ast.expr]] = []
        self.line = 0  # line of the node being visited: where its bindings happen
        # Names bound anywhere in the file to a def, class, import, self or cls: the only
        # arguments worth resolving for parameter flow.
        self.callable_names: set[str] = set()
        self.container_names: set[str] = set()  # names bound to a container literal

    def bind(self, scope: Scope, name: str, value, span: tuple[int, int] | None = None
             ) -> None:
        """Bind `name` in `scope` (or where its global/nonlocal declaration sends it)."""
        target = scope
        if name in scope.globals:
            target = self.root
        elif name in scope.nonlocals:
            outer = scope.function_parent()
            while outer is not None and outer.kind != "module" and name not in outer.bindings:
                outer = outer.function_parent()
            target = outer if outer is not None and outer.kind != "module" else scope
        target.bindings.setdefault(name, []).append(Binding(value, scope, self.line, span))
        head = value.func if isinstance(value, ast.Call) else value  # `x = Node()`: too
        if (isinstance(value, dict) and value["mode"] != "param") or (
                isinstance(head, ast.Name) and head.id in self.callable_names):
            self.callable_names.add(name)  # also `chosen = helper`: worth resolving
        elif isinstance(value, (ast.List, ast.Tuple, ast.Dict, ast.Set)):
            self.container_names.add(name)  # its items are followed when it is passed

    # ---- pass 1: bindings, collected while walking -------------------------------------

    def visit(self, v: Visit) -> None:
        node = v.node
        if type(node) not in BINDING_TYPES:  # most nodes (names, constants...) bind nothing
            return
        if type(node) is ast.Module:  # kept for the branches of its body (call_branches)
            self.tree = node
            return
        scope = self.scopes.get(v.scope.qualname, self.root)
        self.line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = Scope(v.qualname, v.kind, scope, node)
            self.scopes[v.qualname] = inner
            # exact: this very definition (`f#2` is not `f`, whatever runs last)
            self.bind(scope, node.name, ref(v.qualname, "def", exact=True))
            self.defs.append((node, inner))
            decs = node.decorator_list
            for i, dec in enumerate(decs):
                # `@dec` calls dec with the def, or with what the decorator below it returned;
                # `@factory(x)` calls the factory's result
                self.calls.append((dec, scope, True,
                                   decs[i + 1] if i + 1 < len(decs) else v.qualname))
            if not isinstance(node, ast.ClassDef):
                self._bind_params(node, inner, scope)
        elif isinstance(node, ast.Call):
            self.calls.append((node, scope, False, None))
            self._container_call(node, scope)
        elif isinstance(node, ast.Import):
            for a in node.names:
                head = a.asname or a.name.split(".")[0]
                self.bind(scope, head, ref(a.name if a.asname else head, "import_alias"))
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(self.module, self.is_package, node.level, node.module)
            for a in node.names:
                if a.name == "*":
                    scope.stars.append(base)
                else:
                    sep = "" if not base or base.endswith(".") else "."
                    self.bind(scope, a.asname or a.name,
                              ref(f"{base}{sep}{a.name}", "import_alias"))
        elif isinstance(node, ast.Global):
            scope.globals.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            scope.nonlocals.update(node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            self._bind_assign(node, scope)
        elif isinstance(node, ast.Return) and node.value is not None:
            self.returns.setdefault(scope.qualname, []).append(node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._bind_loop(node.target, node.iter, scope)
            self.statements.append(("for", node.iter, scope))
        elif isinstance(node, _COMPREHENSIONS):
            span = (node.lineno, node.end_lineno)
            for gen in node.generators:
                self._bind_loop(gen.target, gen.iter, scope, span)
                self.statements.append(("for", gen.iter, scope))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.statements.append(("with", item.context_expr, scope))
                if item.optional_vars is not None:
                    self._bind_opaque(item.optional_vars, scope)
        elif isinstance(node, ast.Raise):
            if node.exc is not None and not isinstance(node.exc, ast.Call):
                self.statements.append(("raise", node.exc, scope))
        elif isinstance(node, ast.ExceptHandler):
            self.handler_spans.append((node.lineno, node.end_lineno))
            if node.name:
                self.bind(scope, node.name, OPAQUE)
        elif isinstance(node, ast.Lambda):  # its parameters shadow names inside its body
            for a in ast.walk(node.args):
                if isinstance(a, ast.arg):
                    self.bind(scope, a.arg, OPAQUE, (node.lineno, node.end_lineno))
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            self.bind(scope, node.name, OPAQUE)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self.bind(scope, node.rest, OPAQUE)

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
                    self.bind(inner, a.arg, ref(cls, "cls_method"))
                else:
                    self.bind(inner, a.arg, ref(cls, "self_method", attr="()"))
            elif a.annotation is not None and not is_callable_annotation(a.annotation):
                self.bind(inner, a.arg, ("annotation", a.annotation, outer))
            else:
                self.bind(inner, a.arg, ref(inner.qualname, "parameter", mode="param",
                                            param=a.arg, index=i))
        if args.vararg is not None:  # a tuple of the positional arguments from its index on
            self.bind(inner, args.vararg.arg, ref(inner.qualname, "parameter", mode="param",
                                                  param=args.vararg.arg,
                                                  index=len(positional), star=True))
        if args.kwarg is not None:
            self.bind(inner, args.kwarg.arg, OPAQUE)
        for a in args.kwonlyargs:
            self.bind(inner, a.arg, ("annotation", a.annotation, outer)
                      if a.annotation is not None and not is_callable_annotation(a.annotation)
                      else ref(inner.qualname, "parameter", mode="param", param=a.arg,
                               index=None))
        names += [a.arg for a in (args.vararg,) if a] + [a.arg for a in args.kwonlyargs] \
            + [a.arg for a in (args.kwarg,) if a]
        inner.params = names
        inner.arity = len(names) - (1 if bound else 0)

    def _bind_assign(self, node, scope: Scope) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if isinstance(node, ast.AugAssign) or value is None:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                self.bind(scope, node.target.id, ("annotation", node.annotation, scope))
            elif isinstance(node.target, ast.Name):
                self.bind(scope, node.target.id, OPAQUE)
            return
        if isinstance(value, ast.Constant):
            return
        if (len(targets) == 1 and isinstance(targets[0], ast.Tuple)
                and isinstance(value, ast.Tuple) and len(value.elts) == len(targets[0].elts)
                and not any(isinstance(e, ast.Starred)
                            for e in (*value.elts, *targets[0].elts))):
            targets, values = targets[0].elts, value.elts  # a, b = C(), D(): pairwise
        else:
            values = [value] * len(targets)
        for t, value in zip(targets, values, strict=True):
            if isinstance(t, ast.Name):
                self.bind(scope, t.id, value)
                if scope.kind in ("module", "class"):
                    # What other files can import or inherit: every name of `s = attributes =
                    # attrs` and of `a, b = f, g` is one.
                    self.assigns.append((value, scope, t.id))
                if scope.kind == "class":  # a class attribute: self.x() / Cls.x() read it
                    scope.self_attrs.setdefault(t.id, []).append(Binding(value, scope,
                                                                         self.line))
            elif (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                  and scope.kind == "method" and scope.parent is not None
                  and first_param(scope.node) == t.value.id):
                scope.parent.self_attrs.setdefault(t.attr, []).append(Binding(value, scope,
                                                                              self.line))
            elif isinstance(t, (ast.Tuple, ast.List)):
                self._bind_unpack(t, value, scope, ())
            elif isinstance(t, ast.Starred):
                self._bind_opaque(t, scope)
            elif isinstance(t, ast.Subscript):
                key = t.slice.value if isinstance(t.slice, ast.Constant) else None
                if isinstance(t.value, ast.Name):
                    self.adds.append((t.value.id, scope, key, value))
                else:
                    self.attr_adds.append((t.value, scope, key, value))
            # x.attr = v and x[k] = v bind no name: x is read, not rebound

    def _bind_unpack(self, target, value: ast.expr, scope: Scope, path: tuple) -> None:
        """`a, (b, *c) = value`: each name is bound to ("unpack", value, path, scope), path
        the indexes down to it; a starred name's last step is ("*", first, after) (the items
        from `first` to `after` from the end), read by calls.py against a literal."""
        elts = target.elts
        star = next((i for i, e in enumerate(elts) if isinstance(e, ast.Starred)), None)
        for i, e in enumerate(elts):
            step = i if star is None or i < star else (i - len(elts) if i > star else
                                                        ("*", i, len(elts) - i - 1))
            if isinstance(e, ast.Starred):
                e = e.value
            if isinstance(e, ast.Name):
                self.bind(scope, e.id, ("unpack", value, (*path, step), scope))
            elif isinstance(e, (ast.Tuple, ast.List)) and not isinstance(step, tuple):
                self._bind_unpack(e, value, scope, (*path, step))
            else:
                self._bind_opaque(e, scope)

    def _container_call(self, node: ast.Call, scope: Scope) -> None:
        """`d.update({k: v})`, `xs.append(v)`, `xs.extend([v, w])`, `s.add(v)`,
        `d.setdefault(k, v)`: items put into the container named `d`/`xs`."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and node.args):
            return
        arg, pairs = node.args[-1], []
        if func.attr in ("append", "add", "insert", "setdefault"):
            key = node.args[0].value if func.attr == "setdefault" and isinstance(
                node.args[0], ast.Constant) else None
            pairs = [(key, arg)]
        elif func.attr == "update" and isinstance(arg, ast.Dict):
            pairs = [(k.value if isinstance(k, ast.Constant) else None, v)
                     for k, v in zip(arg.keys, arg.values, strict=True)]
        elif func.attr == "extend" and isinstance(arg, (ast.List, ast.Tuple)):
            pairs = [(None, e) for e in arg.elts]
        elif func.attr == "extend" and isinstance(arg, ast.Name):
            # `xs.extend(children)`: any item of children (a subscript whose key is unknown)
            pairs = [(None, ast.copy_location(ast.Subscript(
                value=arg, slice=ast.Name(id="*", ctx=ast.Load()), ctx=ast.Load()), arg))]
        if isinstance(func.value, ast.Name):
            self.adds += [(func.value.id, scope, k, v) for k, v in pairs]
        else:
            self.attr_adds += [(func.value, scope, k, v) for k, v in pairs]

    def _bind_loop(self, target, iterable, scope: Scope,
                   span: tuple[int, int] | None = None) -> None:
        if isinstance(target, ast.Name):  # `for h in handlers:` -> every item of handlers
            self.bind(scope, target.id, ("items", iterable, scope), span)
        elif (isinstance(target, ast.Tuple) and len(target.elts) == 2
              and isinstance(target.elts[1], ast.Name) and isinstance(iterable, ast.Call)
              and isinstance(iterable.func, ast.Attribute) and iterable.func.attr == "items"
              and not iterable.args):  # `for k, fn in handlers.items():` -> the values
            self._bind_opaque(target.elts[0], scope, span)
            self.bind(scope, target.elts[1].id, ("items", iterable.func.value, scope), span)
        elif isinstance(target, (ast.Tuple, ast.List)) and not any(
                isinstance(e, ast.Starred) for e in target.elts):
            # `for name, fn in PAIRS:` -> fn is item 1 of each (literal) item of PAIRS
            for i, e in enumerate(target.elts):
                if isinstance(e, ast.Name):
                    self.bind(scope, e.id, ("each", iterable, (i,), scope), span)
                else:
                    self._bind_opaque(e, scope, span)
        else:
            self._bind_opaque(target, scope, span)

    def _bind_opaque(self, target, scope: Scope, span: tuple[int, int] | None = None) -> None:
        for n in ast.walk(target):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                self.bind(scope, n.id, OPAQUE, span)


def first_param(node) -> str | None:
    """The name of a def's first positional parameter (self, cls), None without one."""
    args = getattr(node, "args", None)
    positional = [*args.posonlyargs, *args.args] if args else []
    return positional[0].arg if positional else None
