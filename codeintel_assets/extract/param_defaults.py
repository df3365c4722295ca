"""A parameter's default value as a reference the call graph follows, for extract/calls.py
(FileCalls): what calling the parameter reaches when the caller passes nothing there. Two
spellings, both read from the file's ast:

- the def's own default (`def build(name, cls=Command)`): a name or attribute, evaluated
  where the def is;
- a None default filled in at the top of the body (`def command(name=None, cls=None)` with
  `if cls is None: cls = Command`, click's spelling): an assignment `p = value` directly in
  the body of `if p is None:`, p a parameter of the def, is no binding of its own but the
  parameter's default (flow-insensitively, a binding of its own would hide the parameter, so
  the classes callers pass would be lost). The parameter keeps its reference (an annotated
  one too, with the instances its annotation types: `cls: Optional[Type[C]] = None` types
  none), so parameter flow (storage/call_resolution.py) adds what callers pass; a read in a
  nested def (`cls(...)` in the returned decorator) sees the same.

References made here carry `via` parameter_default and `default` True.
"""

from __future__ import annotations

import ast

from codeintel_assets.extract import receiver_types
from codeintel_assets.extract.bindings import Scope, callables, ref


class Defaults:
    """The parameter defaults of one file (the module docstring): the `if p is None: p =
    value` fills are noted while the walk visits (an `if` before the assignments in its
    body), `refs` reads them after the walk."""

    def __init__(self):
        self._pending: dict[int, str] = {}  # id(assignment) -> the parameter it fills
        self.values: dict[tuple[str, str], list[ast.expr]] = {}  # (def, param) -> values

    def note_if(self, calls, node: ast.If, scope: Scope) -> None:
        """Note the fills in the body of `node` when its test is `p is None`, p a parameter
        of `scope` bound nowhere else before; an annotated p's binding becomes a parameter
        reference (its line kept)."""
        test = node.test
        if not (scope.kind in ("function", "method") and isinstance(test, ast.Compare)
                and isinstance(test.left, ast.Name) and test.left.id in scope.params
                and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
                and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value is None):
            return
        name = test.left.id
        if len(scope.bindings.get(name, ())) != 1:
            return  # reassigned before the test: what it tests is no longer the parameter
        fills = [s for s in node.body if isinstance(s, ast.Assign) and len(s.targets) == 1
                 and isinstance(s.targets[0], ast.Name) and s.targets[0].id == name]
        if not fills:
            return
        for stmt in fills:
            self._pending[id(stmt)] = name
        if (scope.qualname, name) not in self.values:
            self.values[(scope.qualname, name)] = []
            annotation = _annotation(scope, name)
            if annotation is not None:  # its binding becomes the parameter's (refs adds it)
                line, calls.line = calls.line, scope.bindings[name][0].line
                scope.bindings[name] = []
                calls.bind(scope, name, _param_ref(scope, name))
                calls.line = line
            calls.callable_names.add(name)  # passed on (`command(name, cls)`): resolve it

    def take(self, node: ast.AST, scope: Scope) -> bool:
        """Whether assignment `node` is a noted fill: its value is kept as the default, and
        the assignment binds nothing."""
        name = self._pending.pop(id(node), None)
        if name is None:
            return False
        self.values[(scope.qualname, name)].append(node.value)
        return True

    def refs(self, calls, param: dict, depth: int) -> list[dict]:
        """References of the default of parameter `param` (a param reference): the def's
        default when it is a name or attribute (`strategy=flat`, `cls=Command`), evaluated
        where the def is, and the values filled in for None, evaluated in the def."""
        scope = calls.scopes.get(param["ref"])
        args = getattr(scope.node, "args", None) if scope is not None else None
        if args is None:
            return []
        positional = [*args.posonlyargs, *args.args]
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults,
                         strict=True)) + list(zip(args.kwonlyargs, args.kw_defaults,
                                                  strict=True))
        default = next((d for a, d in pairs if a.arg == param["param"]), None)
        found = [(default, scope.parent)] if isinstance(default, (ast.Name, ast.Attribute)) \
            else []
        fills = self.values.get((scope.qualname, param["param"]), ())
        found += [(v, scope) for v in fills]
        annotation = _annotation(scope, param["param"]) if fills else None
        typed = receiver_types.instances(calls, "annotation", annotation, scope.parent,
                                         depth + 1) if annotation is not None else []
        return [{**r, "via": "parameter_default", "default": True} for value, where in found
                for r in callables(calls.refs(value, where, depth + 1))] + typed


def _annotation(scope: Scope, name: str) -> ast.expr | None:
    """The annotation of parameter `name` of def `scope`, if any."""
    args = scope.node.args
    return next((a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
                 if a.arg == name), None)


def _param_ref(scope: Scope, name: str) -> dict:
    """The parameter reference of `name` in def `scope` (bindings.ScopeBindings'), index
    None for a keyword-only one."""
    args = scope.node.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    index = positional.index(name) if name in positional else None
    return ref(scope.qualname, "parameter", mode="param", param=name, index=index)
