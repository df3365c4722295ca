"""The LibCST metadata cst_extract needs, computed without LibCST's wasted work.

cst_extract needs, per file, LibCST's syntactic `PositionProvider` ranges and the
`ScopeProvider` scope of a few nodes (for `QualifiedNameProvider`'s names). `metadata` runs
those providers' own code, minus what the profile (cProfile over this repository, 150 files:
4.2x the bare `libcst.parse_module` before, see docs/benchmarks.md) showed to be neither the parse nor the
analysis:

- `MetadataWrapper.resolve_many` walks the whole tree several extra times doing nothing
  (after PositionProvider it always runs a batched traversal, and ExpressionContextProvider
  and ScopeProvider each walk inside `visit_Module` while it walks again): the providers are
  run directly.
- `CSTNode.visit` rebuilds and validates a copy of every node it visits, which a visitor
  throws away (`_plain_visits`).
- PositionProvider's code generation keeps a `CodeRange` of two `CodePosition`s per node, a
  generator-based context manager per node and a regex split per token (`_PositionState`
  keeps plain tuples keyed by `id(node)`, as CSTNode's `__hash__` is a Python call, and splits
  only tokens with a line break).
- cst_extract walked the whole tree once more to find the nodes it records: the code
  generation, which enters every node in tree order anyway, collects them (`recorded`).
- The visits dispatch `visit_<Class>` / `leave_<Class>` through an f-string `getattr` per
  node, and test children (and ScopeVisitor each node it leaves) with `isinstance` against
  ABCs, a Python-level `__instancecheck__` call each (`_plain_visits` caches both). These
  three cut the extractor's CPU on Django 5.2.19 by about a sixth (89 -> 74 worker CPU s,
  the same 349,805 rows; docs/benchmarks.md).

Results are the providers' (test_cst compares them with LibCST's MetadataWrapper, and the
cst_extract rows were compared row for row on click, this repository and Django). The code
reaches into LibCST internals (`_computed`, `_visit_and_replace_children`, CodegenState,
ScopeVisitor and its `_ASSIGNMENT_LIKE_NODES`); if a LibCST release changes them
(AttributeError), `metadata` falls back to the wrapper.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import (
    ExpressionContextProvider,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)
from libcst.metadata import scope_provider

# (start_line, start_col, end_line, end_col): LibCST's CodeRange as a tuple (lines 1-based,
# columns 0-based characters, end exclusive).
Span = tuple[int, int, int, int]

# Fields that only ever hold whitespace, comments, brackets or punctuation tokens; the walk
# never descends into them (they cannot contain a recorded node).
SKIP_FIELDS = frozenset({
    "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer",
    "trailing_whitespace", "comma", "semicolon", "colon", "first_colon", "second_colon", "dot",
    "equal", "operator", "lbracket", "rbracket", "lbrace", "rbrace", "separator",
    "trailing_comma", "newline", "asynchronous", "empty_lines",
})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(node_type: type) -> tuple[str, ...]:
    """The fields of a LibCST node class that can hold nodes other than tokens."""
    names = _CHILD_FIELDS.get(node_type)
    if names is None:
        names = _CHILD_FIELDS[node_type] = tuple(
            f.name for f in fields(node_type)
            if f.name not in SKIP_FIELDS and not f.name.startswith("whitespace")
        )
    return names


Recorded = tuple[cst.CSTNode, str, tuple[str, ...]]


@dataclass(frozen=True)
class CstMetadata:
    """What `metadata` gives for one module.

    - `spans`: `id(node)` -> PositionProvider's syntactic Span, for every node of the tree
      (keyed by id: the tree is alive while this is, and hashing a CSTNode is a Python call);
    - `scopes`: node -> ScopeProvider's Scope (LibCST's own mapping);
    - `recorded`: `(node, kind, parent kinds)` of every node whose class is a key of the
      `kinds` asked for, in tree pre-order (an enclosing node before what it contains); kind is
      `kinds[type(node)]`, parent kinds those of the enclosing recorded nodes, outermost first.
    """

    spans: Mapping[int, Span]
    scopes: Mapping[cst.CSTNode, Scope]
    recorded: list[Recorded]


def metadata(module: cst.Module, kinds: Mapping[type, str]) -> CstMetadata:
    """PositionProvider's ranges, ScopeProvider's scopes and the nodes of the classes in
    `kinds` (class -> kind name) of `module`, a tree straight from `libcst.parse_module` (no
    node shared)."""
    try:
        positions = _PositionState(module, kinds)
        module._codegen(positions)
        contexts = ExpressionContextProvider()
        scopes = ScopeProvider()
        with _plain_visits():
            contexts.visit_Module(module)
            scopes.metadata = {ExpressionContextProvider: contexts._computed}
            scopes.visit_Module(module)
        return CstMetadata(positions.spans, scopes._computed, positions.recorded)
    except AttributeError:
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        resolved = wrapper.resolve_many([PositionProvider, ScopeProvider])
        return CstMetadata({id(node): (r.start.line, r.start.column, r.end.line, r.end.column)
                            for node, r in resolved[PositionProvider].items()},
                           resolved[ScopeProvider], _walk_recorded(module, kinds))


def _walk_recorded(module: cst.Module, kinds: Mapping[type, str]) -> list[Recorded]:
    """`CstMetadata.recorded` by a walk of the tree (when the code generation cannot be
    instrumented). Iterative: deeply nested expressions must not hit the recursion limit."""
    recorded: list[Recorded] = []
    stack: list[tuple[cst.CSTNode, tuple[str, ...]]] = [(module, ())]
    while stack:
        node, parents = stack.pop()
        kind = kinds.get(type(node))
        if kind is not None:
            recorded.append((node, kind, parents))
            parents = (*parents, kind)
        children: list[cst.CSTNode] = []
        for name in child_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                children.append(value)
            elif isinstance(value, (list, tuple)):
                children.extend(v for v in value if isinstance(v, cst.CSTNode))
        stack.extend((child, parents) for child in reversed(children))
    return recorded


# ---- positions ----------------------------------------------------------------------------

# LibCST's own line-break rule (libcst.metadata.position_provider.NEWLINE_RE).
NEWLINE_RE = re.compile(r"\r\n?|\n")


class _PositionState(CodegenState):
    """libcst.metadata.position_provider.PositionProvidingCodegenState, keeping Spans in
    `spans`: the same positions (syntactic where a node records one, else the node's whole
    generated text), cheaper bookkeeping; and the nodes of the classes in `kinds`, with their
    recorded ancestors' kinds (`CstMetadata.recorded`): code generation enters every node
    inside its parent, in tree order."""

    def __init__(self, module: cst.Module, kinds: Mapping[type, str]) -> None:
        super().__init__(default_indent=module.default_indent,
                         default_newline=module.default_newline)
        self.line, self.column = 1, 0
        self.spans: dict[int, Span] = {}
        self._starts: list[tuple[int, int]] = []
        self.kinds = kinds
        self.recorded: list[Recorded] = []
        self._parents: tuple[str, ...] = ()
        self._outer: list[tuple[str, ...]] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            segments = NEWLINE_RE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append((self.line, self.column))
        kind = self.kinds.get(type(node))
        if kind is not None:
            self.recorded.append((node, kind, self._parents))
            self._outer.append(self._parents)
            self._parents = (*self._parents, kind)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        key = id(node)
        if key not in self.spans:  # a syntactic position recorded inside stands
            self.spans[key] = (*start, self.line, self.column)
        if type(node) in self.kinds:
            self._parents = self._outer.pop()

    def record_syntactic_position(self, node: cst.CSTNode, *,
                                  start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """The context manager `record_syntactic_position` returns: the node's span is what was
    generated inside, or starts/ends where `start_node`/`end_node`'s spans do."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _PositionState, node: cst.CSTNode,
                 start_node: cst.CSTNode | None, end_node: cst.CSTNode | None) -> None:
        self.state, self.node = state, node
        self.start_node, self.end_node = start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc: object) -> None:
        state = self.state
        start = (self.start if self.start_node is None
                 else state.spans[id(self.start_node)][:2])
        end = ((state.line, state.column) if self.end_node is None
               else state.spans[id(self.end_node)][2:])
        state.spans[id(self.node)] = (*start, *end)


# ---- visiting without rebuilding ------------------------------------------------------------
#
# `CSTNode.visit` rebuilds every node it visits (`_visit_and_replace_children` constructs and
# validates a copy, which a CSTVisitor then throws away) and calls the visitor's attribute
# hooks around every field: for the two visitors the scope analysis runs (LibCST's
# ExpressionContextVisitor and ScopeVisitor) that machinery, not their own code, is most of
# cst_extract's time past the parse. `_plain_visits` swaps in a visit that makes the same
# calls on the visitor (on_visit, the children in the order LibCST visits them, on_leave with
# the node itself) without the copies. Neither visitor defines an attribute hook that runs
# (ScopeVisitor's visit_ClassDef_bases sits under visit_ClassDef, which returns False and
# visits the bases itself), and fields that only hold whitespace and punctuation tokens
# (SKIP_FIELDS) are not entered: neither visitor does anything with a token.

_VISIT_ORDER: dict[type, tuple[str, ...]] = {}


class _FieldRecorder(cst.CSTVisitor):
    """Records the fields `_visit_and_replace_children` visits, in order, without
    descending."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.names.append(attribute)


def _visit_order(node: cst.CSTNode) -> tuple[str, ...]:
    """The child fields of `node`'s class in LibCST's visiting order, tokens left out; a field
    that the first node of the class did not visit (an optional one LibCST only visits when
    set, e.g. a format spec) comes last, where LibCST visits it."""
    node_type = type(node)
    order = _VISIT_ORDER.get(node_type)
    if order is None:
        recorder = _FieldRecorder()
        node._visit_and_replace_children(recorder)
        wanted = child_fields(node_type)
        seen = [n for n in dict.fromkeys(recorder.names) if n in wanted]
        order = _VISIT_ORDER[node_type] = (*seen, *(n for n in wanted if n not in seen))
    return order


def _is_node_type(node_type: type) -> bool:
    """issubclass(node_type, CSTNode), cached: `isinstance` against the CSTNode ABC is a
    Python-level `__instancecheck__` call, made for every field of every node visited."""
    found = _NODE_TYPES.get(node_type)
    if found is None:
        found = _NODE_TYPES[node_type] = issubclass(node_type, cst.CSTNode)
    return found


_NODE_TYPES: dict[type, bool] = {list: False, tuple: False, type(None): False}


def _plain_visit(self: cst.CSTNode, visitor: cst.CSTVisitor) -> cst.CSTNode:
    if visitor.on_visit(self):
        for name in _visit_order(self):
            value = getattr(self, name)
            value_type = type(value)
            if value_type is tuple or value_type is list:
                for item in value:
                    if _NODE_TYPES.get(type(item)) or _is_node_type(type(item)):
                        _plain_visit(item, visitor)  # only Module overrides visit
            elif _NODE_TYPES.get(value_type) or _is_node_type(value_type):
                _plain_visit(value, visitor)
    visitor.on_leave(self)
    return self


# visitor class -> node class -> its visit_<Class> / leave_<Class> function, or None.
_VISITS: dict[type, dict[type, object]] = {}
_LEAVES: dict[type, dict[type, object]] = {}


def _hook(hooks: dict[type, dict[type, object]], prefix: str, visitor: cst.CSTVisitor,
          node_type: type):
    """The function `getattr(visitor, f"{prefix}_{node_type.__name__}", None)` gives, unbound
    (None when there is none), cached in `hooks`."""
    found = hooks.setdefault(type(visitor), {})[node_type] = getattr(
        type(visitor), f"{prefix}_{node_type.__name__}", None)
    return found


def _on_visit(self: cst.CSTVisitor, node: cst.CSTNode) -> bool:
    """CSTVisitor.on_visit with the hook lookup cached."""
    try:
        visit = _VISITS[type(self)][type(node)]
    except KeyError:
        visit = _hook(_VISITS, "visit", self, type(node))
    return visit is None or visit(self, node) is not False


def _on_leave(self: cst.CSTVisitor, original_node: cst.CSTNode) -> None:
    """CSTVisitor.on_leave with the hook lookup cached."""
    try:
        leave = _LEAVES[type(self)][type(original_node)]
    except KeyError:
        leave = _hook(_LEAVES, "leave", self, type(original_node))
    if leave is not None:
        leave(self, original_node)


# node class -> whether it is one of LibCST's _ASSIGNMENT_LIKE_NODES (ScopeVisitor counts them).
_ASSIGNMENT_LIKE: dict[type, bool] = {}


def _scope_on_leave(self: scope_provider.ScopeVisitor, original_node: cst.CSTNode) -> None:
    """ScopeVisitor.on_leave (LibCST 1.x), its isinstance against a tuple of ABCs cached and
    ScopeProvider.set_metadata (a plain store in `_computed`) inlined."""
    self.provider._computed[original_node] = self.scope
    node_type = type(original_node)
    like = _ASSIGNMENT_LIKE.get(node_type)
    if like is None:
        like = _ASSIGNMENT_LIKE[node_type] = issubclass(
            node_type, scope_provider._ASSIGNMENT_LIKE_NODES)
    if like:
        self.scope._assignment_count += 1
    _on_leave(self, original_node)


@contextmanager
def _plain_visits() -> Iterator[None]:
    """`CSTNode.visit` is `_plain_visit` inside, and CSTVisitor's `on_visit` / `on_leave`
    (ScopeVisitor's `on_leave`) look their hooks up once per class (for CSTVisitors only:
    nothing inside may transform; hooks are class functions, never set on an instance);
    restored on the way out. Worker processes run one file at a time."""
    scope_visitor = scope_provider.ScopeVisitor  # AttributeError if LibCST moved it
    saved = (cst.CSTNode.visit, cst.CSTVisitor.on_visit, cst.CSTVisitor.on_leave,
             scope_visitor.on_leave)
    cst.CSTNode.visit = _plain_visit
    cst.CSTVisitor.on_visit, cst.CSTVisitor.on_leave = _on_visit, _on_leave
    scope_visitor.on_leave = _scope_on_leave
    try:
        yield
    finally:
        (cst.CSTNode.visit, cst.CSTVisitor.on_visit, cst.CSTVisitor.on_leave,
         scope_visitor.on_leave) = saved
