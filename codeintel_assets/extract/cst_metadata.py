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
  keeps plain tuples and splits only tokens with a line break).

Results are the providers' (test_cst compares them with LibCST's MetadataWrapper, and the
cst_extract rows were compared row for row on click, this repository and Django). The code
reaches into LibCST internals (`_computed`, `_visit_and_replace_children`, CodegenState); if a
LibCST release changes them (AttributeError), `metadata` falls back to the wrapper.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import (
    ExpressionContextProvider,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

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


def metadata(module: cst.Module) -> tuple[Mapping[cst.CSTNode, Span],
                                         Mapping[cst.CSTNode, Scope]]:
    """PositionProvider's ranges (node -> Span) and ScopeProvider's scopes (node -> Scope)
    of `module`, a tree straight from `libcst.parse_module` (no node shared)."""
    try:
        positions = _PositionState(module)
        module._codegen(positions)
        contexts = ExpressionContextProvider()
        scopes = ScopeProvider()
        with _plain_visits():
            contexts.visit_Module(module)
            scopes.metadata = {ExpressionContextProvider: contexts._computed}
            scopes.visit_Module(module)
        return positions.spans, scopes._computed
    except AttributeError:
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        resolved = wrapper.resolve_many([PositionProvider, ScopeProvider])
        return ({node: (r.start.line, r.start.column, r.end.line, r.end.column)
                 for node, r in resolved[PositionProvider].items()},
                resolved[ScopeProvider])


# ---- positions ----------------------------------------------------------------------------

# LibCST's own line-break rule (libcst.metadata.position_provider.NEWLINE_RE).
NEWLINE_RE = re.compile(r"\r\n?|\n")


class _PositionState(CodegenState):
    """libcst.metadata.position_provider.PositionProvidingCodegenState, keeping Spans in
    `spans`: the same positions (syntactic where a node records one, else the node's whole
    generated text), cheaper bookkeeping."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent,
                         default_newline=module.default_newline)
        self.line, self.column = 1, 0
        self.spans: dict[cst.CSTNode, Span] = {}
        self._starts: list[tuple[int, int]] = []

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

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.spans:  # a syntactic position recorded inside stands
            self.spans[node] = (*start, self.line, self.column)

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
                 else state.spans[self.start_node][:2])
        end = ((state.line, state.column) if self.end_node is None
               else state.spans[self.end_node][2:])
        state.spans[self.node] = (*start, *end)


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


def _plain_visit(self: cst.CSTNode, visitor: cst.CSTVisitor) -> cst.CSTNode:
    if visitor.on_visit(self):
        for name in _visit_order(self):
            value = getattr(self, name)
            if isinstance(value, cst.CSTNode):
                value.visit(visitor)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        item.visit(visitor)
    visitor.on_leave(self)
    return self


@contextmanager
def _plain_visits() -> Iterator[None]:
    """`CSTNode.visit` is `_plain_visit` inside (for CSTVisitors only: nothing inside may
    transform); restored on the way out. Worker processes run one file at a time."""
    original = cst.CSTNode.visit
    cst.CSTNode.visit = _plain_visit
    try:
        yield
    finally:
        cst.CSTNode.visit = original
