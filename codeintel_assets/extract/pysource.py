"""Reading Python source and walking its ast with scope and qualname tracking.

Shared by every ast-based extractor (ast_nodes, imports, docstrings, goids) so that qualnames,
definition kinds and `#N` disambiguation follow one rule:

- qualname is module-qualified and follows `__qualname__`: `pkg.a.Class.method`,
  `pkg.a.outer.<locals>.inner`; the module's own qualname is the module name.
- the N-th (N >= 2) definition of the same qualname in a file gets `#N` appended
  (`pkg.a.C.x#2` for a property setter), so qualnames are unique per file.
- kind is module | class | function | method (a def whose enclosing scope is a class body).
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTION_KINDS = ("function", "method")


def decode_python(data: bytes) -> str:
    """Decode source bytes as Python does (PEP 263 coding cookie, else UTF-8, BOM allowed).

    Raises UnicodeDecodeError or SyntaxError (bad cookie) for undecodable input.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def read_python(path: str) -> str:
    with open(path, "rb") as fh:
        return decode_python(fh.read())


def source_lines(source: str) -> list[str]:
    """Lines as ast numbers them (only \\n, \\r\\n and \\r end a line; index 0 is line 1)."""
    return source.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@dataclass(frozen=True)
class Scope:
    qualname: str
    kind: str  # module | class | function | method
    in_function: bool


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and walk makes
# one Visit per node (millions over a large repository). Treat it as read-only all the same.
@dataclass(slots=True, eq=False)
class Visit:
    """One ast node in pre-order, with the scope it is evaluated in (read-only)."""

    node: ast.AST
    depth: int
    scope: Scope  # enclosing scope (for a def: the scope it is defined in)
    qualname: str | None  # the def's own qualname (Module/ClassDef/FunctionDef nodes only)
    kind: str | None  # the def's own kind
    in_type_checking: bool


def walk(tree: ast.Module, module: str) -> Iterator[Visit]:
    """Pre-order walk of every node with its scope, depth and (for definitions) qualname.

    Decorators, default values, annotations and bases of a def are evaluated in the enclosing
    scope, so they are visited with it; only a def's body is inside the def. Redefinitions of
    a name in one scope: the first def that is not an @overload signature gets the plain
    qualname, later ones `#N`; the signatures of an implemented name are `#overloadK`
    (storage/catalog.py, core.goids.qualname, says why).
    """
    seen: dict[str, int] = {}
    module_scope = Scope(module, "module", False)
    # Per scope, the names some non-overload def binds: their @overload signatures yield the
    # plain qualname to it (`_def_qualname`).
    implemented = {module: _implemented_names(tree.body)}
    yield Visit(tree, 0, module_scope, module, "module", False)
    stack: list[tuple[ast.AST, int, Scope, bool]] = [
        (child, 1, module_scope, False) for child in reversed(tree.body)
    ]
    while stack:
        node, depth, scope, in_tc = stack.pop()
        qualname = kind = None
        children: list[tuple[ast.AST, Scope, bool]]
        if isinstance(node, DEF_TYPES):
            # `<locals>` only right under a function; a class body keeps plain dotted names.
            base = (f"{scope.qualname}.<locals>.{node.name}" if scope.kind in _FUNCTION_KINDS
                    else f"{scope.qualname}.{node.name}" if scope.qualname else node.name)
            if is_overload(node) and node.name in implemented.get(scope.qualname, ()):
                key = base + OVERLOAD_MARK
                qualname = f"{key}{seen.setdefault(key, 0) + 1}"
                seen[key] += 1
            else:
                count = seen[base] = seen.get(base, 0) + 1
                qualname = base if count == 1 else f"{base}#{count}"
            implemented[qualname] = _implemented_names(node.body)
            if isinstance(node, ast.ClassDef):
                kind = "class"
            else:
                kind = "method" if scope.kind == "class" else "function"
            inner = Scope(qualname, kind, scope.in_function or kind != "class")
            body = set(map(id, node.body))
            children = [(c, inner if id(c) in body else scope, in_tc)
                        for c in child_nodes(node)]
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            orelse = set(map(id, node.orelse))
            children = [(c, scope, in_tc or (c is not node.test and id(c) not in orelse))
                        for c in child_nodes(node)]
        else:
            yield Visit(node, depth, scope, qualname, kind, in_tc)
            # The common case, without a (node, scope, flag) tuple per child.
            depth += 1
            stack.extend([(c, depth, scope, in_tc) for c in reversed(child_nodes(node))])
            continue
        yield Visit(node, depth, scope, qualname, kind, in_tc)
        for child, child_scope, child_tc in reversed(children):
            stack.append((child, depth + 1, child_scope, child_tc))


_AST = ast.AST


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """`list(ast.iter_child_nodes(node))`, in the same order, without its generator per node
    and per field (the walk's largest cost after the parse)."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, _AST):
            out.append(value)
        elif type(value) is list:
            out.extend([v for v in value if isinstance(v, _AST)])
    return out


OVERLOAD_MARK = "#overload"


def is_overload_signature(qualname: str) -> bool:
    """Whether `qualname` names an @overload signature of an implemented name (`f#overload2`,
    `walk`): it never runs, so it has no function metrics, coverage or risk."""
    return OVERLOAD_MARK in qualname.rpartition(".")[2]


def is_overload(node: ast.AST) -> bool:
    """A def decorated `@overload`, `@typing.overload` or `@<alias>.overload`
    (typing_extensions): a signature for type checkers whose body never runs."""
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        (dotted_name(d) or "").rpartition(".")[2] == "overload" for d in node.decorator_list)


def _implemented_names(body: list[ast.stmt]) -> frozenset[str]:
    """Names bound by a def that is not an overload among `body`'s statements and the blocks
    nested in them (if/else, try, with, loops, match), not inside nested defs."""
    names, stack = set(), list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, DEF_TYPES):
            if not is_overload(node):
                names.add(node.name)
        elif isinstance(node, ast.stmt):
            stack.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, (ast.stmt,
                                                                                ast.excepthandler,
                                                                                ast.match_case)))
        elif isinstance(node, (ast.excepthandler, ast.match_case)):
            stack.extend(node.body)
    return frozenset(names)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def name_position(lines: list[str], node: ast.AST) -> tuple[int, int]:
    """(line, byte column) of a def/class name token; the keyword's position if not found.

    Python 3.11's ast has no position for the name itself. The name follows `def`/`class`
    (and `async`), almost always on the same line; a backslash-continued header falls back to
    the keyword position.
    """
    line = lines[node.lineno - 1].encode()
    head = line[node.col_offset:]
    keyword = b"class" if isinstance(node, ast.ClassDef) else b"def"
    pos = head.find(keyword)
    if pos >= 0:
        rest = head[pos + len(keyword):]
        stripped = rest.lstrip()
        if stripped.startswith(node.name.encode()):
            return node.lineno, node.col_offset + pos + len(keyword) + len(rest) - len(stripped)
    return node.lineno, node.col_offset


def module_is_package(rel_path: str) -> bool:
    return rel_path.rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute dotted name of `from <level dots><target> import ...` inside `module`.

    Returns the target unchanged for absolute imports, and the dotted text as written
    (e.g. `..x`) when the relative import climbs above the top-level package.
    """
    if level == 0:
        return target or ""
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level > len(parts):  # climbs above the top-level package: Python raises ImportError
        return "." * level + (target or "")
    base = parts[: len(parts) - (level - 1)]
    if target:
        base.append(target)
    return ".".join(base) or "." * level + (target or "")


def callee_name_position(expr: ast.expr) -> tuple[int | None, int | None]:
    """Where a SCIP occurrence naming the callee starts: a Name's start, an Attribute's last
    name (its end minus the name's UTF-8 length)."""
    if isinstance(expr, ast.Name):
        return expr.lineno, expr.col_offset
    if isinstance(expr, ast.Attribute):
        return expr.end_lineno, expr.end_col_offset - len(expr.attr.encode())
    return None, None


def unquote_annotation(expr: ast.expr) -> ast.expr:
    """A string annotation ("Client") parsed as the expression it names."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        try:
            return ast.parse(expr.value, mode="eval").body
        except SyntaxError:
            return expr
    return expr


def is_callable_annotation(expr: ast.expr) -> bool:
    """Whether an annotation is `Callable[...]` (any dotted spelling, bare or in `Optional[]`
    / `| None`): it names no class, and what it holds is a function passed in."""
    expr = unquote_annotation(expr)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        parts = [e for e in (expr.left, expr.right)
                 if not (isinstance(e, ast.Constant) and e.value is None)]
        return len(parts) == 1 and is_callable_annotation(parts[0])
    if isinstance(expr, ast.Subscript) and (dotted_name(expr.value) or "").rsplit(
            ".", 1)[-1] == "Optional":
        return is_callable_annotation(expr.slice)
    head = expr.value if isinstance(expr, ast.Subscript) else expr
    return (dotted_name(head) or "").rsplit(".", 1)[-1] == "Callable"
