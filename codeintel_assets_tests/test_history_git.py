"""function_history and hotspots against what git reports, on temp repositories that once
broke them: a user's git config that changes patch output, file names git C-quotes or reads
as pathspec patterns, a path reused after a rename."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from codeintel_assets.extract.line_trace import Span, trace_spans
from codeintel_assets.tools.git_history import churn_log, patch_log
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets_tests.conftest import (
    GIT_ENV,
    git,
    make_git_repo,
)
from codeintel_assets_tests.test_history import _commit

F = "def f(x):\n    return x + 1\n\n\ndef g(y):\n    return y\n"


def _git_log_l(repo: Path, start: int, end: int, path: str) -> list[str]:
    """`git log -L` with literal pathspecs (its own -L reads `:top.py` as magic too)."""
    return subprocess.run(
        ["git", "-C", str(repo), "log", f"-L{start},{end}:{path}", "--format=%H", "-s"],
        check=True, capture_output=True, text=True,
        env={**os.environ, **GIT_ENV, "GIT_LITERAL_PATHSPECS": "1"}).stdout.split()


def _traced(repo: Path, path: str, span: Span) -> list[str]:
    """The commits our trace finds for `span` of `path` (former names from churn_log)."""
    names = churn_log(ToolRunner(), str(repo), [path]).names[path]
    log = patch_log(ToolRunner(), str(repo), names)
    return [c.sha for c in trace_spans(log, path, [span])[0].changes]


def _edited_repo(root: Path, paths: list[str]) -> Path:
    """`paths` created with F, then f and g edited in two commits."""
    repo = make_git_repo(root, dict.fromkeys(paths, F))
    _commit(repo, "edit f", {p: F.replace("x + 1", "x + 2") for p in paths})
    _commit(repo, "edit g", {p: F.replace("x + 1", "x + 2").replace("return y", "return -y")
                             for p in paths})
    return repo


def test_user_git_config_and_pattern_names_do_not_change_the_trace(tmp_path):
    """diff.noprefix (and friends) change patch headers; `:top.py` and `pkg/f[1].py` are
    pathspec magic and a glob: every span still agrees with `git log -L`."""
    paths = ["pkg/a.py", ":top.py", "pkg/f[1].py"]
    repo = _edited_repo(tmp_path / "widgets", paths)
    for key, value in [("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true"),
                       ("color.ui", "always"), ("log.decorate", "full"),
                       ("log.showRoot", "false"), ("diff.interHunkContext", "5"),
                       ("log.follow", "true")]:
        git(repo, "config", key, value)
    for path in paths:
        for span in (Span(1, 2, 1), Span(5, 6, 5)):
            want = _git_log_l(repo, span.start, span.end, path)
            assert len(want) == 2 and _traced(repo, path, span) == want, (path, span)


def test_c_quoted_file_names_keep_their_history(tmp_path):
    """git C-quotes names holding '"', '\\' or a tab in patch headers even with
    core.quotePath off; a rename between two such names is followed."""
    repo = _edited_repo(tmp_path / "widgets", ['pkg/q"uote.py', "pkg/tab\tname.py"])
    git(repo, "mv", 'pkg/q"uote.py', "pkg/back\\slash.py")
    _commit(repo, "rename")
    for path in ("pkg/back\\slash.py", "pkg/tab\tname.py"):
        for span in (Span(1, 2, 1), Span(5, 6, 5)):
            want = _git_log_l(repo, span.start, span.end, path)
            assert len(want) == 2 and _traced(repo, path, span) == want, (path, span)
    from codeintel_assets.tools.git_history import _path

    assert _path('"a/caf\\303\\251 \\"x\\"\\t.py"') == 'a/café "x"\t.py'


def test_reused_path_after_rename_keeps_its_own_history(tmp_path):
    """a.py renamed to b.py, then a new a.py: the new a.py has only its own commit, b.py
    has a.py's old ones (as `git log --follow`)."""
    repo = _edited_repo(tmp_path / "widgets", ["a.py"])
    git(repo, "mv", "a.py", "b.py")
    _commit(repo, "rename a -> b")
    _commit(repo, "new a", {"a.py": "def fresh():\n    return 0\n"})
    churn = churn_log(ToolRunner(), str(repo), ["a.py", "b.py"])
    shas = {p: [c.sha for c in churn.commits[p]] for p in ("a.py", "b.py")}
    assert shas["a.py"] == git(repo, "log", "-1", "--format=%H").split()
    assert shas["b.py"] == git(repo, "log", "--follow", "--format=%H", "--", "b.py").split()
    assert churn.names == {"a.py": ("a.py",), "b.py": ("a.py", "b.py")}
    assert _traced(repo, "a.py", Span(1, 2, 1)) == _git_log_l(repo, 1, 2, "a.py")
    assert _traced(repo, "b.py", Span(1, 2, 1)) == _git_log_l(repo, 1, 2, "b.py")
