"""Git history passes (through the ToolRunner) parsed into plain values: per-file churn from
one `git log --numstat --raw -M` pass, per-file patch logs (`git log -m -p -U0 -M`) that
`extract/line_trace.py` maps function spans through, and the work tree's uncommitted diff
against HEAD. Read-only: never takes Git's index lock. The output format is forced (`_CONFIG`,
`_PATCH`) so a user's git config (diff.noprefix, log.showSignature, color.ui=always, ...)
cannot change what is parsed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codeintel_assets.tools.git import c_unquote, repo_info
from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolRunner,
)

# Python sources: what core.file_state calls language 'python'.
PY_PATHSPEC = ("*.py", "*.pyi")
PY_SUFFIXES = (".py", ".pyi")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_EMAIL = re.compile(r"<([^>]*)>\s+(\d+)\s+[+-]\d{4}$")


# quotePath off: non-ASCII paths as they are (UTF-8), not octal escapes; the rest keeps a
# user's config from changing the output the parsers read (signatures and decorations add
# lines, follow/noprefix/relative change paths, showRoot=false hides a root commit's diff).
_CONFIG = tuple(arg for kv in (
    "core.quotePath=false", "log.showSignature=false", "log.follow=false", "log.showRoot=true",
    "log.decorate=false", "log.abbrevCommit=false", "log.mailmap=false", "diff.noprefix=false",
    "diff.mnemonicPrefix=false", "diff.relative=false", "diff.interHunkContext=0",
    "diff.external=", "color.ui=never", "color.diff=never") for arg in ("-c", kv))
# Patch output: a/ b/ prefixes whatever the config, no external diff driver, no colour.
_PATCH = ("--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", "--no-relative",
          "--inter-hunk-context=0")


def _git(runner: ToolRunner, root: str, *args: str, literal: bool = False,
         ok_codes: Sequence[int] = (0,)) -> str:
    """stdout of `git <args>` at `root` under _CONFIG; `literal`: pathspecs are file names
    (a name starting with ':' or holding '*?[' is no pattern), else patterns (PY_PATHSPEC)."""
    env = {"GIT_LITERAL_PATHSPECS": "1" if literal else "0",
           "GIT_GLOB_PATHSPECS": "0", "GIT_NOGLOB_PATHSPECS": "0", "GIT_ICASE_PATHSPECS": "0"}
    return runner.run(["git", *_CONFIG, "-C", root, *args], env=env, ok_codes=ok_codes).stdout


@dataclass(frozen=True)
class Head:
    """The scanned commit's sha and committer time (Unix seconds); sha '' when the
    repository has no commit (or none was scanned). `shallow`: the boundary commits of a
    shallow clone (`.git/shallow`: their parents are missing), empty for a full clone.
    `error`: git's reason when it refused the repository (dubious ownership; sha '')."""

    sha: str
    ts: int
    shallow: frozenset[str] = frozenset()
    error: str = ""


def head(runner: ToolRunner, root: str, rev: str = "HEAD") -> Head | None:
    """The commit `rev` of the repository at `root` (the scanned commit: history is read as
    of it, not of whatever HEAD is by the time a step runs): None when `root` is not the top
    of a Git checkout (a plain folder, a subfolder of another checkout, or git missing);
    sha '' without commits, when `rev` is '' (the scan saw no commit) or names no commit;
    `error` set when git refuses the repository."""
    info = repo_info(root, runner, head_only=True)
    if info.git_error:
        return Head("", 0, error=info.git_error)
    if not info.commit and not _is_top(runner, root):
        return None
    if not rev:
        return Head("", 0)
    out = _git(runner, root, "log", "-1", "--format=%H %ct", rev, "--",
               ok_codes=(0, 128)).split()
    if len(out) != 2:
        return Head("", 0)
    return Head(out[0], int(out[1]), _shallow(runner, root))


def _shallow(runner: ToolRunner, root: str) -> frozenset[str]:
    """The shallow boundary commits (`git rev-parse --is-shallow-repository`, then the
    shallow file `git rev-parse --git-path shallow` names); empty for a full clone."""
    if _git(runner, root, "rev-parse", "--is-shallow-repository").strip() != "true":
        return frozenset()
    where = Path(root, _git(runner, root, "rev-parse", "--git-path", "shallow").strip())
    return frozenset(where.read_text().split()) if where.is_file() else frozenset()


def _is_top(runner: ToolRunner, root: str) -> bool:
    try:
        top = runner.run(["git", "-C", root, "rev-parse", "--show-toplevel"]).stdout.strip()
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


def churn_log(runner: ToolRunner, root: str, rev: str, current: Iterable[str],
              boundary: frozenset[str] = frozenset()) -> ChurnLog:
    """One `git log --numstat --raw -z -M --date-order <rev>` pass over the whole history of
    Python files before `rev` (the scanned commit): each change is credited to the path its
    file has at `rev` among `current`.
    Walking newest-first, a path's identity is the current file it leads to: a rename maps
    the old name to the new name's file, and a commit that creates a path (an add, or the new
    side of a rename) ends that path's identity, so an older file once at a reused path is
    not credited to the new one. Changes to paths with no current descendant are dropped.
    Merges show no numstat (git's default), so they count nowhere, as in `git log
    --numstat`; commits of `boundary` (a shallow clone's edge: their diff is the whole tree
    as added, not a change) count nowhere either."""
    text = _git(runner, root, "log", "--numstat", "--raw", "-z", "-M", "--date-order",
                "--no-color", "--format=%x01%H%x1f%ae%x1f%at", rev, "--", *PY_PATHSPEC)
    alias = {p: p for p in current}
    commits: dict[str, list[FileCommit]] = defaultdict(list)
    names: dict[str, set[str]] = {p: {p} for p in alias}
    tokens = iter(text.split("\0"))
    sha, email, ts = "", "", 0
    created: list[str] = []  # paths this commit creates (added, or a rename's new name)
    renamed: list[tuple[str, str]] = []  # (old, new)
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("\x01"):
            _advance(alias, names, created, renamed)
            sha, email, stamp = token[1:].split("\x1f")
            ts = int(stamp)
            continue
        if not token:
            continue
        if token.startswith(":"):  # --raw: ':<modes> <blobs> <status>', then its path(s)
            status = token.rsplit(" ", 1)[-1][:1]
            path = next(tokens)
            if status in "RC":
                new_path = next(tokens)
                if status == "R":
                    renamed.append((path, new_path))
                created.append(new_path)
            elif status == "A":
                created.append(path)
            continue
        added, deleted, path = token.split("\t", 2)
        if not path:  # a rename: the old and the new path follow as tokens of their own
            _, path = next(tokens), next(tokens)
        target = alias.get(path)
        if target is not None and sha not in boundary:
            commits[target].append(FileCommit(sha, email, ts, _count(added), _count(deleted)))
    _advance(alias, names, created, renamed)
    return ChurnLog(dict(commits), {p: tuple(sorted(n)) for p, n in names.items()})


def _advance(alias: dict[str, str], names: dict[str, set[str]], created: list[str],
             renamed: list[tuple[str, str]]) -> None:
    """Step `alias` (path -> current file) from a commit to its parent: created paths did
    not exist before it; a renamed file had its old name. Clears the two lists."""
    targets = [(old, alias.get(new)) for old, new in renamed]
    for path in created:
        alias.pop(path, None)
    for old, target in targets:
        if target is not None:
            alias[old] = target
            names[target].add(old)
    created.clear()
    renamed.clear()


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


def patch_log(runner: ToolRunner, root: str, rev: str, names: Sequence[str]
              ) -> list[PatchCommit]:
    """The history before `rev` of the paths `names` (a file's current and former names),
    children before parents (`--date-order`), with zero-context diffs against every parent
    (`git log -m -p -U0 -M --parents --format=raw <rev> -- names`)."""
    text = _git(runner, root, "log", "-m", "-p", "-U0", "-M", "--parents", "--format=raw",
                "--date-order", "--no-decorate", "--no-abbrev-commit", *_PATCH, rev, "--",
                *names, literal=True)
    return parse_patch_log(text)


# The work tree's pseudo-commit (git blame's "Not Committed Yet").
WORKTREE = "0" * 40


def worktree_diffs(runner: ToolRunner, root: str, rev: str, paths: Sequence[str]
                   ) -> dict[str, FileDiff]:
    """Work-tree path -> its uncommitted change against the commit `rev` (staged or not),
    for those of `paths` that differ: one `git diff-index -p -U0 --no-renames <rev> -- <Python
    files>` (a staged file new since `rev` has old_path None). git leaves untracked files out:
    see `tree` for what `rev` holds. The plumbing command, since porcelain `git diff` refreshes
    .git/index (rewrites it when a file's stat changed) even under GIT_OPTIONAL_LOCKS=0; the
    patch text is the same."""
    text = _git(runner, root, "diff-index", "-p", "-U0", "--no-renames", *_PATCH, rev, "--",
                *PY_PATHSPEC)
    wanted = set(paths)
    commits = parse_patch_log(f"commit {WORKTREE}\n" + text)
    return {d.new_path: d for c in commits for d in c.diffs.get(0, ())
            if d.new_path in wanted}


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
            old, new = _diff_git_paths(line[len("diff --git "):])
            diff = {"old": old, "new": new, "hunks": []}
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
        diff["old"] = None if line == "--- /dev/null" else _path(line[4:].rstrip("\t"))[2:]
    elif line.startswith("+++ "):
        diff["new"] = None if line == "+++ /dev/null" else _path(line[4:].rstrip("\t"))[2:]
    elif line.startswith("rename from "):
        diff["old"] = _path(line[12:])
    elif line.startswith("rename to "):
        diff["new"] = _path(line[10:])
    elif line.startswith("new file mode"):
        diff["old"] = None


def _path(text: str) -> str:
    """A path as git prints it in patch headers: C-quoted when it holds '"', '\\' or a
    control character, even with core.quotePath off (tools/git.py's c_unquote); else as is."""
    return c_unquote(text).decode(errors="replace")


def _diff_git_paths(rest: str) -> tuple[str, str]:
    """(old, new) of a `diff --git a/<old> b/<new>` line's rest, either side C-quoted; the
    unquoted form is split at its middle (old and new are the same path there: a rename
    or a quoted name is set again by its own header lines)."""
    if rest.startswith('"'):
        end = rest.index('" ', 1)
        while rest[end - 1] == "\\" and not _even_backslashes(rest, end):
            end = rest.index('" ', end + 1)
        return _path(rest[:end + 1])[2:], _path(rest[end + 2:])[2:]
    if rest.endswith('"'):
        start = rest.index(' "')
        return rest[2:start], _path(rest[start + 1:])[2:]
    same = rest[2:2 + (len(rest) - 5) // 2]
    return same, same


def _even_backslashes(text: str, end: int) -> bool:
    run = len(text[:end]) - len(text[:end].rstrip("\\"))
    return run % 2 == 0


def _close(commit: PatchCommit | None, index: int, diff: dict | None) -> None:
    if commit is not None and diff is not None:
        commit.diffs.setdefault(max(index, 0), []).append(
            FileDiff(diff["old"], diff["new"], tuple(diff["hunks"])))


def touched_since(runner: ToolRunner, root: str, since: str, rev: str
                  ) -> frozenset[str] | None:
    """Python paths (as each commit names them; a rename's new name) changed by the commits
    `since..rev`, merges against each parent included (an evil merge changes files too);
    None when `since` is not an ancestor of `rev` (history rewritten: rebuild)."""
    if runner.run(["git", "-C", root, "merge-base", "--is-ancestor", since, rev],
                  ok_codes=(0, 1, 128)).returncode != 0:
        return None
    text = _git(runner, root, "log", "-m", "--name-only", "-z", "-M", "--format=",
                "--no-color", f"{since}..{rev}", "--", *PY_PATHSPEC)
    return frozenset(t.strip("\n") for t in text.split("\0") if t.strip("\n"))

