"""Git history passes (through the ToolRunner) parsed into plain values: per-file churn from
one `git log --numstat -M` pass, and per-file patch logs (`git log -m -p -U0 -M`) that
`extract/line_trace.py` maps function spans through. Read-only: never takes Git's index lock.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codeintel_assets.tools.git import _NO_LOCKS, repo_info
from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolRunner,
)

# Python sources: what core.file_state calls language 'python'.
PY_PATHSPEC = ("*.py", "*.pyi")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_EMAIL = re.compile(r"<([^>]*)>\s+(\d+)\s+[+-]\d{4}$")


def _git(runner: ToolRunner, root: str, *args: str) -> str:
    # quotePath off: non-ASCII paths as they are (UTF-8), not octal escapes.
    return runner.run(["git", "-c", "core.quotePath=false", "-C", root, *args],
                      env=_NO_LOCKS).stdout


@dataclass(frozen=True)
class Head:
    """HEAD's sha and committer time (Unix seconds); sha '' when the repository has no
    commit."""

    sha: str
    ts: int


def head(runner: ToolRunner, root: str) -> Head | None:
    """HEAD of the repository at `root`: None when `root` is not the top of a Git checkout
    (a plain folder, a subfolder of another checkout, or git missing), sha '' without
    commits."""
    if not repo_info(root, runner, head_only=True).commit and not _is_top(runner, root):
        return None
    out = runner.run(["git", "-C", root, "log", "-1", "--format=%H %ct"], env=_NO_LOCKS,
                     ok_codes=(0, 128)).stdout.split()
    return Head(out[0], int(out[1])) if len(out) == 2 else Head("", 0)


def _is_top(runner: ToolRunner, root: str) -> bool:
    try:
        top = runner.run(["git", "-C", root, "rev-parse", "--show-toplevel"],
                         env=_NO_LOCKS).stdout.strip()
    except (ToolExecutionError, ToolNotFoundError):
        return False
    return Path(top).resolve() == Path(root).resolve()


# ---- churn: one numstat pass -----------------------------------------------------------------


@dataclass(frozen=True)
class FileCommit:
    """One commit's change to a file: author email, author time (Unix s), lines added and
    deleted (0 for binary changes)."""

    sha: str
    email: str
    author_ts: int
    added: int
    deleted: int


@dataclass(frozen=True)
class ChurnLog:
    """Per current path (renames followed back from HEAD), the commits that changed it,
    newest first; `names`: every path each current file had in history (itself included)."""

    commits: dict[str, list[FileCommit]]
    names: dict[str, tuple[str, ...]]


def churn_log(runner: ToolRunner, root: str, current: Iterable[str]) -> ChurnLog:
    """One `git log --numstat -M --date-order` pass over the whole history of Python files:
    each change is credited to the path its file has at HEAD among `current` (a rename seen
    newest-first maps the old name to the current one; changes to paths with no current
    descendant are dropped). Merges show no numstat (git's default), so they count nowhere,
    as in `git log --numstat`."""
    text = _git(runner, root, "log", "--numstat", "-z", "-M", "--date-order",
                "--format=%x01%H%x1f%ae%x1f%at", "--", *PY_PATHSPEC)
    alias = {p: p for p in current}
    commits: dict[str, list[FileCommit]] = defaultdict(list)
    names: dict[str, set[str]] = {p: {p} for p in alias}
    tokens = iter(text.split("\0"))
    sha, email, ts = "", "", 0
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("\x01"):
            sha, email, stamp = token[1:].split("\x1f")
            ts = int(stamp)
            continue
        if not token:
            continue
        added, deleted, path = token.split("\t", 2)
        if not path:  # a rename: the old and the new path follow as tokens of their own
            old, path = next(tokens), next(tokens)
            target = alias.get(path)
            if target is not None:
                alias.setdefault(old, target)
                names[target].add(old)
        target = alias.get(path)
        if target is not None:
            commits[target].append(FileCommit(sha, email, ts, _count(added), _count(deleted)))
    return ChurnLog(dict(commits), {p: tuple(sorted(n)) for p, n in names.items()})


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0  # '-' for binary changes


# ---- patch logs: one pass per file -----------------------------------------------------------


@dataclass(frozen=True)
class Hunk:
    """A -U0 hunk: `old_count` lines from `old_start` became `new_count` lines from
    `new_start` (1-based; a count of 0 puts the start on the line before the gap)."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int


@dataclass(frozen=True)
class FileDiff:
    """One file's change in one commit against one parent; old_path None for a file the
    commit created."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]


@dataclass
class PatchCommit:
    """A commit of a patch log: `parents` as the path-limited log rewrote them (the listed
    ancestors), `diffs` per parent index (a merge's diff against each parent it differs
    from, `-m`; a root commit's under index 0)."""

    sha: str
    parents: tuple[str, ...]
    email: str = ""
    author_ts: int = 0
    diffs: dict[int, list[FileDiff]] = field(default_factory=dict)


def patch_log(runner: ToolRunner, root: str, names: Sequence[str]) -> list[PatchCommit]:
    """The history of the paths `names` (a file's current and former names), children
    before parents (`--date-order`), with zero-context diffs against every parent
    (`git log -m -p -U0 -M --parents --format=raw -- names`)."""
    text = _git(runner, root, "log", "-m", "-p", "-U0", "-M", "--parents", "--format=raw",
                "--date-order", "--no-color", "--no-ext-diff", "--", *names)
    return parse_patch_log(text)


def parse_patch_log(text: str) -> list[PatchCommit]:
    """PatchCommits of `git log -m -p -U0 --parents --format=raw` output, one per sha."""
    out: list[PatchCommit] = []
    by_sha: dict[str, PatchCommit] = {}
    current: PatchCommit | None = None
    index = 0
    diff: dict | None = None
    for line in text.split("\n"):
        if line.startswith("commit "):
            _close(current, index, diff)
            diff = None
            head_part, _, source = line[7:].partition(" (from ")
            shas = head_part.split()
            current = by_sha.get(shas[0])
            if current is None:
                current = by_sha[shas[0]] = PatchCommit(shas[0], tuple(shas[1:]))
                out.append(current)
            # `(from P)` names a parent as rewritten on the commit line (`parent` headers
            # name the real ones)
            from_sha = source.rstrip(")")
            index = shas[1:].index(from_sha) if from_sha in shas[1:] else 0
            continue
        if current is None:
            continue
        if line.startswith("author ") and diff is None:
            found = _EMAIL.search(line)
            if found:
                current.email, current.author_ts = found.group(1), int(found.group(2))
        elif line.startswith("diff --git "):
            _close(current, index, diff)
            rest = line[len("diff --git a/"):]
            same = rest[:(len(rest) - 3) // 2]
            diff = {"old": same, "new": same, "hunks": []}
        elif diff is not None:
            _diff_line(diff, line)
    _close(current, index, diff)
    return out


def _diff_line(diff: dict, line: str) -> None:
    if line.startswith("@@"):
        m = _HUNK.match(line)
        if m:
            diff["hunks"].append(Hunk(int(m.group(1)), int(m.group(2) or 1),
                                      int(m.group(3)), int(m.group(4) or 1)))
    elif diff["hunks"]:
        return  # a hunk's line: a removed "-- x" reads as a "--- " header otherwise
    elif line.startswith("--- "):
        diff["old"] = None if line == "--- /dev/null" else line[6:].rstrip("\t")
    elif line.startswith("+++ "):
        diff["new"] = None if line == "+++ /dev/null" else line[6:].rstrip("\t")
    elif line.startswith("rename from "):
        diff["old"] = line[12:]
    elif line.startswith("rename to "):
        diff["new"] = line[10:]
    elif line.startswith("new file mode"):
        diff["old"] = None


def _close(commit: PatchCommit | None, index: int, diff: dict | None) -> None:
    if commit is not None and diff is not None:
        commit.diffs.setdefault(max(index, 0), []).append(
            FileDiff(diff["old"], diff["new"], tuple(diff["hunks"])))


def touched_since(runner: ToolRunner, root: str, since: str) -> frozenset[str] | None:
    """Python paths (as each commit names them; a rename's new name) changed by the commits
    `since..HEAD`, merges against each parent included (an evil merge changes files too);
    None when `since` is not an ancestor of HEAD (history rewritten: rebuild)."""
    if runner.run(["git", "-C", root, "merge-base", "--is-ancestor", since, "HEAD"],
                  env=_NO_LOCKS, ok_codes=(0, 1, 128)).returncode != 0:
        return None
    text = _git(runner, root, "log", "-m", "--name-only", "-z", "-M", "--format=",
                f"{since}..HEAD", "--", *PY_PATHSPEC)
    return frozenset(t.strip("\n") for t in text.split("\0") if t.strip("\n"))
