"""Git queries (through the ToolRunner) and their parsing into plain values."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolRunner,
)


@dataclass(frozen=True)
class RepoInfo:
    """What Git says of a work tree; empty values outside Git. `git_error`: git's own
    reason when it refused the repository (e.g. "detected dubious ownership": a checkout
    owned by another user, not in safe.directory), '' otherwise; the rest is then as
    outside Git."""

    root: str
    slug: str
    commit: str
    branch: str
    dirty: bool
    commit_ts: dt.datetime | None
    git_error: str = ""


def slug_from_remote(url: str) -> str:
    """`owner/name` from an origin URL (https, ssh or scp-like; `.git` suffix dropped)."""
    url = url.strip().rstrip("/")
    url = re.sub(r"\.git$", "", url)
    parts = re.split(r"[/:]", url)
    parts = [p for p in parts if p]
    return "/".join(parts[-2:]) if len(parts) >= 2 else (parts[-1] if parts else "")


def refusal(stderr: str) -> str:
    """git's reason for refusing a repository, from the stderr of a failed `git rev-parse`:
    its `fatal:` line (with the hint that follows it: dubious ownership names the `git
    config --global --add safe.directory` to run), '' when git only said this is no
    repository (a plain folder)."""
    text = stderr.strip()
    if not text or "not a git repository" in text.lower():
        return ""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


# Read-only: the ToolRunner's READ_ONLY_ENV keeps git from taking .git/index.lock (`git status`
# would refresh the index otherwise, and a user's concurrent `git commit` could fail while a
# sensor polls).
def repo_info(root: str | Path, runner: ToolRunner | None = None,
              head_only: bool = False) -> RepoInfo:
    """Slug, HEAD sha, branch, dirtiness and commit time of the work tree at `root`.

    Outside a Git checkout (or without git installed) the slug is the folder name and the
    commit is ''. `head_only` skips `git status` and the commit time (dirty False, commit_ts
    None): what a sensor polling HEAD needs. Never takes Git's index lock, never fetches.
    """
    runner = runner or ToolRunner(default_timeout_s=60)
    root = str(Path(root).resolve())
    folder = Path(root).name

    def git(*args: str) -> str | None:
        try:
            return runner.run(["git", "-C", root, *args]).stdout.strip()
        except (ToolExecutionError, ToolNotFoundError):
            return None

    try:
        top = runner.run(["git", "-C", root, "rev-parse", "--show-toplevel"]).stdout.strip()
    except ToolNotFoundError:
        top = None
    except ToolExecutionError as exc:
        top = None
        error = refusal(exc.stderr_tail)
        if error:
            return RepoInfo(root, folder, "", "", False, None, error)
    if top is None or Path(top).resolve() != Path(root):
        # Not a checkout, or a subfolder of another repository's checkout: not this repo's Git.
        return RepoInfo(root, folder, "", "", False, None)
    remote = git("config", "--get", "remote.origin.url")
    slug = slug_from_remote(remote) if remote else folder
    commit = git("rev-parse", "--verify", "-q", "HEAD") or ""
    branch = git("symbolic-ref", "--short", "-q", "HEAD") or ""
    if head_only:
        return RepoInfo(root, slug or folder, commit, branch, False, None)
    status = git("status", "--porcelain", "--untracked-files=no")
    ts_text = git("log", "-1", "--format=%ct", "HEAD") if commit else None
    commit_ts = (dt.datetime.fromtimestamp(int(ts_text), dt.timezone.utc).replace(tzinfo=None)
                 if ts_text else None)
    return RepoInfo(root, slug or folder, commit, branch, bool(status), commit_ts)


@dataclass(frozen=True)
class Tree:
    """What a commit holds: its files' paths (`files`, of the suffixes asked for) and its
    submodules' paths (`submodules`: gitlinks, whose files' history is another
    repository's)."""

    files: frozenset[str]
    submodules: tuple[str, ...]

    def in_submodule(self, path: str) -> bool:
        return any(path.startswith(s + "/") for s in self.submodules)


def tree(runner: ToolRunner, root: str, rev: str, suffixes: tuple[str, ...]) -> Tree:
    """The files ending in `suffixes` and the submodules of the commit `rev` (`git ls-tree
    -r -z --full-tree <rev>`: `<mode> <type> <object>\t<path>` per blob or gitlink; -z
    leaves paths unquoted). Raises ToolExecutionError when `rev` names no commit."""
    text = runner.run(["git", "-C", root, "ls-tree", "-r", "-z", "--full-tree", rev]).stdout
    files, submodules = set(), []
    for entry in text.split("\0"):
        meta, _, path = entry.partition("\t")
        if not path:
            continue
        if meta.split(" ")[1] == "commit":
            submodules.append(path)
        elif path.endswith(suffixes):
            files.add(path)
    return Tree(frozenset(files), tuple(sorted(submodules)))


@dataclass(frozen=True)
class WorkTreeFiles:
    """What Git says the work tree's files are. `listed`: tracked plus untracked-but-not-
    ignored rel_paths (`git ls-files --cached --others --exclude-standard`; a tracked file
    deleted from the work tree is still listed); `ignored`: the untracked paths the checkout's
    ignore rules (.gitignore, .git/info/exclude, core.excludesFile) leave out, an ignored
    directory as one `dir/` entry."""

    listed: list[str]
    ignored: list[str]


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def c_unquote(text: str) -> bytes:
    """The bytes of a path as git prints it: C-quoted ("...", octal escapes for bytes,
    \\ \\" \\t \\n ...) when quoted, else the text as is (UTF-8)."""
    if not (text.startswith('"') and text.endswith('"') and len(text) >= 2):
        return text.encode()
    out, i, body = bytearray(), 0, text[1:-1]
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 == len(body):
            out += ch.encode()
            i += 1
        elif body[i + 1] in "01234567":
            out.append(int(body[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(_ESCAPES.get(body[i + 1], ord(body[i + 1])))
            i += 2
    return bytes(out)


def checkout_git(root: str, runner: ToolRunner) -> Callable[..., str | None] | None:
    """`git(*args) -> stdout` (None when git fails) for the checkout whose top level is
    `root`; None when `root` is not one (not a checkout, a subfolder of another repository's
    checkout, or git missing)."""
    def git(*args: str) -> str | None:
        try:
            return runner.run(["git", "-C", root, *args]).stdout
        except (ToolExecutionError, ToolNotFoundError):
            return None

    top = git("rev-parse", "--show-toplevel")
    if top is None or os.path.realpath(top.strip()) != os.path.realpath(root):
        return None
    return git


def hooks_dir(root: str | Path, runner: ToolRunner | None = None) -> Path | None:
    """The folder Git runs `root`'s hooks from (`git rev-parse --git-path hooks`: `.git/hooks`,
    the main repository's for a linked worktree, `core.hooksPath` when set), absolute; None
    when `root` is no Git work tree or git is missing."""
    git = checkout_git(str(root), runner or ToolRunner())
    path = git("rev-parse", "--git-path", "hooks") if git else None
    return Path(root, path.strip()).resolve() if path else None


def work_tree_files(root: str | Path, runner: ToolRunner | None = None) -> WorkTreeFiles | None:
    """The files of the Git work tree whose top level is `root`; None outside Git (not a
    checkout, a subfolder of another repository's checkout, or git missing). Never takes the
    index lock. Paths are POSIX, relative to `root`, sorted."""
    git = checkout_git(str(Path(root).resolve()), runner or ToolRunner(default_timeout_s=300))
    if git is None:
        return None
    # Paths C-quoted with octal escapes (core.quotePath), not -z: the runner decodes output as
    # UTF-8, and a name that is not UTF-8 must reach the scan as the file system spells it
    # (os.fsdecode). Tracked files of submodules come from --recurse-submodules (git lists
    # only --cached there); their untracked files are left out.
    quoted = ("-c", "core.quotePath=true")
    listed = git(*quoted, "ls-files", "--cached", "--others", "--exclude-standard")
    nested = git(*quoted, "ls-files", "--cached", "--recurse-submodules")
    ignored = git(*quoted, "ls-files", "--others", "--ignored", "--exclude-standard",
                  "--directory")
    if listed is None or nested is None or ignored is None:
        return None

    def paths(text: str) -> set[str]:
        return {os.fsdecode(c_unquote(line)) for line in text.splitlines() if line}

    # --cached lists a path once per conflict stage during a merge: de-duplicated.
    return WorkTreeFiles(sorted(paths(listed) | paths(nested)), sorted(paths(ignored)))
