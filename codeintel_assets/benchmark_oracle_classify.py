"""The call oracle's kinds (benchmark_oracle.py): how a recorded call got from the caller to the
callee, judged from the caller's source at the call line and what the callee is.

Rules, first match wins (`name` is the callee's co_name; "named on the line" means a call
expression spanning the caller's line whose function is `name` or `<expr>.name`):

1. property: the callee is decorated with property, cached_property or `<prop>.setter/getter/
   deleter` (an attribute read, write or del ran it).
2. getattr: `name` is not named on the line and the caller's def computes an attribute name for
   getattr (`getattr(obj, f"visit_{x}")`, a non-constant second argument).
3. implicit: the callee is a dunder (`__bool__`, `__len__`, `__contains__`, `__str__`,
   `__enter__`/`__exit__`, `__iter__`/`__next__`, `__call__`, `__init__` run by a class call,
   `__eq__`/`__hash__` run by a dict...) not named on the line (`super().__init__()` is plain).
4. nested: the callee is a def inside a def (`<locals>` in its qualname) named on the line.
5. dispatch: named on the line, the callee is a method that overrides a method of the same
   name in one of its class's bases in the project (bases followed by name, transitively), and
   the caller is not a method of the callee's class: `self.invoke()` in a base reaching a
   subclass's `invoke`, `param.convert()` reaching `Choice.convert`.
6. generator: named on the line, or not named anywhere on it (a generator object created
   elsewhere, iterated here), and the callee is a generator or coroutine body starting.
7. plain: named on the line.
8. wrapper: not named on the line, and the callee is a def its enclosing def returns (a
   decorator's wrapper, `return wrapper` or `return update_wrapper(wrapper, f)`, run by a call
   of the decorated name, with no library frame between: not a framework calling a decorated
   function) or the caller is one (the wrapper calling the wrapped).
9. callback: the rest: a function passed as a value and called through a parameter, a
   variable or a library (`sorted(key=f)`, `map(f, xs)`, `transform(line)` with `transform`
   a parameter).

Which of a pair's lines decides, when it was recorded at several: the first kind in KINDS.
Source facts come from ast.parse of the project's files (`read_facts`); a file that does not
parse gives no facts and its calls fall through to the rules that need none.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from codeintel_assets.benchmark_oracle_record import CodeRef

KINDS = ("plain", "nested", "generator", "dispatch", "property", "implicit", "getattr",
         "wrapper", "callback")
PROPERTY_DECORATORS = {"property", "cached_property", "setter", "getter", "deleter"}
LOCALS = "<locals>"


@dataclass
class FileFacts:
    """What one file's source says: call names per line, property defs and returned closures
    (nested defs their enclosing def returns) by first line (the first decorator's, as
    co_firstlineno), lines of computed getattr calls, and classes (qualname without module ->
    (base names, method names))."""

    called: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    properties: set[int] = field(default_factory=set)
    returned: set[int] = field(default_factory=set)
    computed_getattr: list[int] = field(default_factory=list)
    classes: dict[str, tuple[list[str], set[str]]] = field(default_factory=dict)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):  # a decorator factory: @functools.cached_property()
        return _name(node.func)
    if isinstance(node, ast.Subscript):  # a generic base: class LineGenerator(Visitor[Line])
        return _name(node.value)
    return None


def _returned_closures(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[int]:
    """First lines of the defs nested in `func` (not deeper) that a `return` of `func` names."""
    nested, returned, todo = [], set(), list(func.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.append(node)
            continue
        if isinstance(node, (ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Return) and node.value is not None:
            returned.update(n.id for n in ast.walk(node.value) if isinstance(n, ast.Name))
        todo.extend(ast.iter_child_nodes(node))
    return [min([d.lineno, *(x.lineno for x in d.decorator_list)]) for d in nested
            if d.name in returned]


def file_facts(tree: ast.Module) -> FileFacts:
    """FileFacts of one parsed module."""
    facts = FileFacts()

    def visit(node: ast.AST, scope: list[str]) -> None:
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name:
                for line in range(node.lineno, node.end_lineno + 1):
                    facts.called[line].add(name)
            if name == "getattr" and len(node.args) >= 2 and \
                    not isinstance(node.args[1], ast.Constant):
                facts.computed_getattr.append(node.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if any(_name(d) in PROPERTY_DECORATORS for d in node.decorator_list):
                facts.properties.add(first)
            facts.returned.update(_returned_closures(node))
            if scope and scope[-1] != LOCALS and ".".join(scope) in facts.classes:
                facts.classes[".".join(scope)][1].add(node.name)
            inner = [*scope, node.name, LOCALS]
        elif isinstance(node, ast.ClassDef):
            inner = [*scope, node.name]
            facts.classes[".".join(inner)] = ([n for n in map(_name, node.bases) if n], set())
        else:
            inner = scope
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, [])
    return facts


def read_facts(root: Path, paths: set[str]) -> dict[str, FileFacts]:
    """FileFacts of each of `paths` (relative to `root`); unreadable or unparsable files get
    empty facts."""
    out = {}
    for rel in sorted(paths):
        try:
            out[rel] = file_facts(ast.parse((root / rel).read_bytes()))
        except (OSError, SyntaxError, ValueError):
            out[rel] = FileFacts()
    return out


class Classifier:
    """Kinds of recorded calls over the facts of every project file (`facts`, by path)."""

    def __init__(self, facts: dict[str, FileFacts]) -> None:
        self.facts = facts
        self.by_class_name: dict[str, list[tuple[list[str], set[str]]]] = defaultdict(list)
        for f in facts.values():
            for qualname, info in f.classes.items():
                self.by_class_name[qualname.rsplit(".", 1)[-1]].append(info)

    def overrides(self, callee: CodeRef) -> bool:
        """The callee is a method whose class has a project base (by name, transitively) that
        defines a method of the same name."""
        cls, _, method = callee.qualname.rpartition(".")
        info = self.facts.get(callee.path, FileFacts()).classes.get(cls)
        if not cls or LOCALS in cls.split(".")[-1:] or info is None:
            return False
        seen, todo = set(), list(info[0])
        while todo:
            base = todo.pop()
            if base in seen:
                continue
            seen.add(base)
            for bases, methods in self.by_class_name.get(base, []):
                if method in methods:
                    return True
                todo.extend(bases)
        return False

    def kind(self, path: str, caller: str, caller_span: tuple[int, int], line: int,
             callee: CodeRef, via: bool = False) -> str:
        """The kind of the call that the def `caller` (its core.goids qualname; in file `path`,
        spanning `caller_span`, first and last line) made at `line` to `callee`: one of KINDS,
        by the module docstring's rules; `via` says library frames stood between them."""
        facts = self.facts.get(path, FileFacts())
        callee_facts = self.facts.get(callee.path, FileFacts())
        name = callee.name
        named = name in facts.called.get(line, ())
        dunder = name.startswith("__") and name.endswith("__")
        if callee.first_line in callee_facts.properties:
            return "property"
        if not named and any(caller_span[0] <= n <= caller_span[1]
                             for n in facts.computed_getattr):
            return "getattr"
        if dunder and not named:
            return "implicit"
        if named and LOCALS in callee.qualname.split("."):
            return "nested"
        cls, parent = callee.qualname.rpartition(".")[0], caller.rpartition(".")[0]
        if named and self.overrides(callee) and not parent.endswith(f".{cls}") and parent != cls:
            return "dispatch"
        if callee.is_generator and (named or not facts.called.get(line)):
            return "generator"
        if named:
            return "plain"
        if (callee.first_line in callee_facts.returned and not via) or \
                caller_span[0] in facts.returned:
            return "wrapper"
        return "callback"
