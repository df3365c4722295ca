"""Tracing line spans backwards through a file's history, as `git log -L` and `git blame` do,
from one patch log per file (tools/git_history.patch_log). Pure Python, no I/O.

Range rule (`git log -L<start>,<end>:<file>`, git's line-log.c): a commit changes a span when a
hunk of its zero-context diff overlaps it (a pure deletion counts when it falls between two
lines of the span). The span in the parent runs from the parent line of its first line to
the parent line of its last; a boundary line inside a hunk maps to that hunk's edge, so the
lines a changing hunk replaced are traced further (the span may grow). The trace ends where
the span is empty in the parent (every line added). Merges: when the span is unchanged against
some parent, the first such parent alone is followed and the merge is not reported (it is
TREESAME for the span); otherwise the merge is reported and every parent followed.

Line rule (the def line, `git blame` of one line): the commit whose diff adds the line (it is
in a hunk's new side) introduced it; otherwise it maps to its parent line. Merges as above.

Uncommitted edits (`through_worktree`), as `git blame` treats its "Not Committed Yet"
pseudo-commit: the work tree's spans are first mapped through its diff against HEAD by the
same rules; lines new in the work tree belong to no commit, and the pseudo-commit is no change.
Shallow clones: a boundary commit (its parents are missing) is neither a change nor a creation;
a def line that reaches one has an unknown origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from codeintel_assets.tools.git_history import FileDiff, Hunk, PatchCommit

# Bumped when the traced spans change for the same history (function_history's ledger).
VERSION = 2


@dataclass(frozen=True)
class Span:
    """A definition's lines (1-based, inclusive; empty when start > end) and its def line
    (None: the line is in no commit, i.e. uncommitted)."""

    start: int
    end: int
    def_line: int | None


@dataclass(frozen=True)
class SpanChange:
    """A commit that changed a span: lines it added inside the span and lines it removed
    (the preimage of its hunks that touch the span)."""

    sha: str
    added: int
    deleted: int


@dataclass
class SpanHistory:
    """A span's trace: the commits that changed it, children before parents (the order of
    `git log -L`), and the commit that introduced its def line (None when the history ends
    before one does: `origin_unknown` says the def line is uncommitted (`uncommitted`) or
    reached a shallow clone's boundary)."""

    changes: list[SpanChange] = field(default_factory=list)
    created_in: str | None = None
    origin_unknown: bool = False
    uncommitted: bool = False


@dataclass(frozen=True)
class _Mapped:
    touched: bool
    start: int  # the span in the parent; empty when start > end
    end: int
    added: int
    deleted: int


def _offset_before(hunks: Sequence[Hunk], line: int) -> tuple[int, Hunk | None]:
    """(new minus old line offset of the hunks wholly before `line`, the hunk whose new side
    holds `line` or None)."""
    shift = 0
    for h in hunks:
        if h.new_count and h.new_start <= line < h.new_start + h.new_count:
            return shift, h
        end = h.new_start + h.new_count - 1 if h.new_count else h.new_start
        if end < line:
            shift += h.new_count - h.old_count
        else:
            break
    return shift, None


def map_range(hunks: Sequence[Hunk], start: int, end: int) -> _Mapped:
    """The range rule for one diff (see the module docstring)."""
    added = deleted = 0
    touched = False
    for h in hunks:
        if h.new_count:
            overlap = min(end, h.new_start + h.new_count - 1) - max(start, h.new_start) + 1
            hit = overlap > 0
            added += max(overlap, 0)
        else:  # a deletion after new line new_start
            hit = start <= h.new_start < end
        if hit:
            touched = True
            deleted += h.old_count
    shift, inside = _offset_before(hunks, start)
    new_start = (inside.old_start if inside.old_count else inside.old_start + 1) if inside \
        else start - shift
    shift, inside = _offset_before(hunks, end)
    new_end = (inside.old_start + inside.old_count - 1 if inside.old_count
               else inside.old_start) if inside else end - shift
    return _Mapped(touched, new_start, new_end, added, deleted)


def map_line(hunks: Sequence[Hunk], line: int) -> int | None:
    """The line rule: the parent line of `line`, None when this diff added it."""
    shift, inside = _offset_before(hunks, line)
    return None if inside else line - shift


def through_worktree(diff: FileDiff | None, spans: Sequence[Span]) -> list[Span]:
    """The work tree's `spans` as spans of the file at HEAD, through `diff` (the file's
    uncommitted change; None: unchanged). A span with no committed line (every line is new
    in the work tree, as `git blame` would give it to "Not Committed Yet") is empty;
    otherwise the range rule gives it at HEAD (the lines an uncommitted hunk replaced are
    traced on, as for any commit). The def line by the line rule (None when new)."""
    if diff is None:
        return list(spans)
    if diff.old_path is None:  # the whole file is new since HEAD
        return [Span(1, 0, None) for _ in spans]
    out = []
    for s in spans:
        line = map_line(diff.hunks, s.def_line) if s.def_line is not None else None
        if line is None and all(map_line(diff.hunks, k) is None
                                for k in range(s.start, s.end + 1)):
            out.append(Span(1, 0, None))
            continue
        mapped = map_range(diff.hunks, s.start, s.end)
        out.append(Span(mapped.start, mapped.end, line))
    return out


def _diff_for(commit: PatchCommit, index: int, path: str) -> FileDiff | None:
    for d in commit.diffs.get(index, ()):
        if d.new_path == path:
            return d
    return None


@dataclass
class _Item:
    """What is traced of one span at one commit: the path, the range (or None once it ended)
    and the def line (or None once its origin is found)."""

    path: str
    start: int
    end: int
    line: int | None
    live: bool = True


def trace_spans(log: Sequence[PatchCommit], path: str, spans: Sequence[Span],
                boundary: frozenset[str] = frozenset()) -> list[SpanHistory]:
    """The history of each span of the file at `path` as it is in the newest commit of
    `log` (children before parents, as patch_log returns it); `boundary`: a shallow clone's
    boundary commits, where the trace stops without a change or a creation."""
    out = [SpanHistory(origin_unknown=s.def_line is None, uncommitted=s.def_line is None)
           for s in spans]
    if not log:
        return out
    pending: dict[str, dict[int, _Item]] = {log[0].sha: {
        i: _Item(path, s.start, s.end, s.def_line, s.start <= s.end)
        for i, s in enumerate(spans) if s.start <= s.end or s.def_line is not None}}
    for commit in log:
        items = pending.pop(commit.sha, None)
        if not items:
            continue
        parents = commit.parents or ("",)
        for i, item in items.items():
            if commit.sha in boundary:  # what this commit changed is unknown
                out[i].origin_unknown |= item.line is not None
                continue
            _step(commit, parents, i, item, out[i], pending)
    return out


def _step(commit: PatchCommit, parents: tuple[str, ...], i: int, item: _Item,
          history: SpanHistory, pending: dict[str, dict[int, _Item]]) -> None:
    """Move one span's item from `commit` to its parents (the rules of the module doc)."""
    passes = []
    for index, parent in enumerate(parents):
        diff = _diff_for(commit, index, item.path)
        if diff is None and commit.parents:  # the file is the same in this parent
            passes.append((parent, item.path, _Mapped(False, item.start, item.end, 0, 0),
                           item.line))
            continue
        if diff is None or diff.old_path is None:  # created here
            passes.append((parent, None, _Mapped(item.live, 1, 0, item.end - item.start + 1, 0),
                           None))
            continue
        mapped = map_range(diff.hunks, item.start, item.end) if item.live else \
            _Mapped(False, 1, 0, 0, 0)
        line = map_line(diff.hunks, item.line) if item.line is not None else None
        passes.append((parent, diff.old_path, mapped, line))
    range_same = [p for p in passes if not p[2].touched]
    line_same = [p for p in passes if item.line is not None and p[3] is not None]
    if item.live and not range_same:
        first = passes[0][2]
        history.changes.append(SpanChange(commit.sha, first.added, first.deleted))
    if item.line is not None and not line_same:
        history.created_in = commit.sha
    for parent, old_path, mapped, line in passes:
        if not parent or old_path is None:
            continue
        # Where the span (or the def line) is unchanged against a parent, only the first
        # such parent is followed; a changed def line has found its commit.
        live = item.live and (not range_same or range_same[0][0] == parent) \
            and mapped.start <= mapped.end
        if not line_same or line_same[0][0] != parent:
            line = None
        if live or line is not None:
            _merge(pending.setdefault(parent, {}), i,
                   _Item(old_path, mapped.start, mapped.end, line, live))


def _merge(into: dict[int, _Item], i: int, item: _Item) -> None:
    """Two children reach one parent: the ranges' hull, the first def line found."""
    have = into.get(i)
    if have is None:
        into[i] = item
        return
    if item.live:
        if have.live:
            have.start, have.end = min(have.start, item.start), max(have.end, item.end)
        else:
            have.start, have.end, have.live = item.start, item.end, True
    if have.line is None:
        have.line = item.line
