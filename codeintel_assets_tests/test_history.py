"""analytics.hotspots and analytics.function_history from real in-process runs on temp Git
repositories with renames, a function moved within a file and across files, and a merge:
function_history agrees with `git log -L<start>,<end>:<file>` on every function, a one-commit
update reads only the touched file and equals a full rebuild, and a plain folder gives zeros
with history_status no_git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codeintel_assets import run
from codeintel_assets_tests.conftest import (
    GIT_ENV,
    checks,
    git,
    make_git_repo,
    rows,
    write_files,
)

SELECT = "*analytics/hotspots,*analytics/function_history"

A1 = '''\
def f(x):
    return x + 1


def g(y):
    total = 0
    for i in range(y):
        total += i
    return total


class K:
    def m(self):
        return 1
'''


def _commit(repo: Path, message: str, files: dict[str, str] | None = None,
            **env: str) -> None:
    """Commit everything, with `files` written first and `env` over GIT_ENV (another
    author, a date)."""
    if files:
        write_files(repo, files)
    git(repo, "add", "-A")
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", message], check=True,
                   env={**os.environ, **GIT_ENV, **env})


def history_repo(root: Path) -> Path:
    """main: a.py created, g edited, a side branch edits f while main adds a header and
    edits K.m, merged; a.py renamed to b.py; g moved below K; helper moved from c.py into
    b.py; one commit by another author."""
    repo = make_git_repo(root, {"pkg/__init__.py": "", "pkg/a.py": A1,
                                "pkg/c.py": "def helper(v):\n    return v * 2\n"})
    _commit(repo, "edit g", {"pkg/a.py": A1.replace("total += i", "total += i * 2")})
    git(repo, "checkout", "-qb", "side")
    _commit(repo, "side edits f", {"pkg/a.py": A1.replace("total += i", "total += i * 2")
                                   .replace("x + 1", "x + 10")})
    git(repo, "checkout", "-q", "main")
    _commit(repo, "header and m", {"pkg/a.py": "import os\n" + A1.replace(
        "total += i", "total += i * 2").replace("return 1", "return os.sep")})
    git(repo, "merge", "-q", "--no-edit", "side")
    git(repo, "mv", "pkg/a.py", "pkg/b.py")
    _commit(repo, "rename a -> b")
    text = (repo / "pkg/b.py").read_text()
    g_start, k_start = text.index("def g"), text.index("class K")
    g_def = text[g_start:k_start]
    moved = text[:g_start] + text[k_start:] + "\n\n" + g_def.rstrip() + "\n"
    _commit(repo, "move g below K", {"pkg/b.py": moved})
    helper = (repo / "pkg/c.py").read_text()
    _commit(repo, "move helper into b", {"pkg/b.py": moved + "\n\n" + helper,
                                          "pkg/c.py": "VALUE = 1\n"},
            GIT_AUTHOR_EMAIL="other@example.com")
    return repo


def _git_log_l(repo: Path, start: int, end: int, path: str) -> list[str]:
    return git(repo, "log", f"-L{start},{end}:{path}", "--format=%H", "-s").split()


def test_function_history_agrees_with_git_log_L(tmp_path):
    repo = history_repo(tmp_path / "widgets")
    db = tmp_path / "ci.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[], console_log=False)
    assert result.success
    assert checks(result)["analytics/function_history:one_row_per_function_goid"]
    got = rows(db, """
        SELECT g.qualname, g.rel_path, g.start_line, g.end_line, h.commit_count,
               h.last_modified_commit, h.created_in_commit, h.author_count, h.stability_bucket
        FROM analytics.function_history h JOIN core.goids g USING (goid) ORDER BY 1""")
    assert [r[0] for r in got] == ["pkg.b.K.m", "pkg.b.f", "pkg.b.g", "pkg.b.helper"]
    for qualname, path, start, end, count, last, created, authors, bucket in got:
        want = _git_log_l(repo, start, end, path)
        assert count == len(want), qualname
        assert last == want[0], qualname
        # every commit is from today: all in the window, all 'new'
        assert bucket == "new"
    by_name = {r[0]: r for r in got}
    blame = git(repo, "blame", "--porcelain", "-L", f"{by_name['pkg.b.f'][2]},+1",
                "pkg/b.py").split()[0]
    assert by_name["pkg.b.f"][6] == blame  # def line from the initial commit
    assert by_name["pkg.b.f"][4] == 2  # initial + the side branch's edit, through the merge
    assert by_name["pkg.b.helper"][7] == 1 and by_name["pkg.b.helper"][4] == 1  # moved in
    hot = dict(rows(db, "SELECT rel_path, commit_count FROM analytics.hotspots"))
    assert hot["pkg/b.py"] == 7  # renames followed back to pkg/a.py; merges count nowhere
    assert rows(db, "SELECT DISTINCT history_status, window_days FROM analytics.hotspots") \
        == [("git", 365)]


def test_one_commit_update_reads_only_the_touched_file(tmp_path):
    repo = history_repo(tmp_path / "widgets")
    write_files(repo, {"pkg/d.py": "def d():\n    return 4\n"})
    _commit(repo, "add d")
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    _commit(repo, "edit d", {"pkg/d.py": "def d():\n    return 5\n"})
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                             console_log=False)
    meta = next(m.metadata for m in result.asset_materializations_for_node("function_history"))
    assert meta["mode"].value == "incremental"
    assert meta["read_paths"].value == ["pkg/d.py"]
    query = "SELECT * EXCLUDE (commit) FROM analytics.function_history ORDER BY goid"
    incremental = rows(db, query)
    full = tmp_path / "full.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(full), tools=[],
                           console_log=False).success
    assert incremental == rows(full, query)


@pytest.mark.parametrize("status", ["no_git", "no_commits"])
def test_no_history_gives_zeros(tmp_path, status):
    """A plain folder, or a repository without a commit: zeros, NULL commits, and why."""
    root = tmp_path / "plain"
    write_files(root, {"m.py": "def f():\n    return 1\n"})
    if status == "no_commits":
        git(root, "init", "-q", "-b", "main")
    db = tmp_path / "ci.duckdb"
    result = run.materialize(SELECT, target=str(root), db=str(db), tools=[],
                             console_log=False)
    assert result.success
    assert rows(db, "SELECT rel_path, commit_count, score, history_status "
                    "FROM analytics.hotspots") == [("m.py", 0, 0.0, status)]
    assert rows(db, "SELECT created_in_commit, commit_count, stability_bucket "
                    "FROM analytics.function_history") == [(None, 0, "stable")]
    meta = next(m.metadata for m in result.asset_materializations_for_node("hotspots"))
    assert meta["history_status"].value == status


def test_patch_log_parsing_keeps_hunk_lines_out_of_headers():
    """A removed line reading `-- x` shows as `--- x` in a hunk: not a file header."""
    from codeintel_assets.tools.git_history import FileDiff, Hunk, parse_patch_log

    text = ("commit " + "a" * 40 + " " + "b" * 40 + "\ntree " + "c" * 40 + "\nparent " +
            "b" * 40 + "\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 "
            "+0000\n\n    msg\n\ndiff --git a/p.py b/p.py\nindex 1..2 100644\n--- a/p.py\n"
            "+++ b/p.py\n@@ -3 +3 @@ def f():\n--- x\n+++ y\n")
    [commit] = parse_patch_log(text)
    assert commit.email == "a@x" and commit.author_ts == 1700000000
    assert commit.diffs == {0: [FileDiff("p.py", "p.py", (Hunk(3, 1, 3, 1),))]}


def test_conflict_resolution_merge_is_reported_as_git_log_L_does(tmp_path):
    """Both branches change f and the merge resolves the conflict with a third version: the
    span differs from every parent, so the merge is a change of f and both sides are
    followed; g, unchanged by the merge against one parent, does not list it."""
    from codeintel_assets.extract.line_trace import Span, trace_spans
    from codeintel_assets.tools.git_history import patch_log
    from codeintel_assets.tools.runner import ToolRunner

    base = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    repo = make_git_repo(tmp_path / "widgets", {"m.py": base})
    git(repo, "checkout", "-qb", "side")
    _commit(repo, "side f", {"m.py": base.replace("return 1", "return 10")})
    git(repo, "checkout", "-q", "main")
    _commit(repo, "main f and g", {"m.py": base.replace("return 1", "return 11")
                                   .replace("return 2", "return 22")})
    # exits 1: f conflicts
    subprocess.run(["git", "-C", str(repo), "merge", "-q", "side"], check=False,
                   env={**os.environ, **GIT_ENV}, capture_output=True)
    _commit(repo, "merge: f resolved", {"m.py": base.replace("return 1", "return 12")
                                        .replace("return 2", "return 22")})
    log = patch_log(ToolRunner(), str(repo), "HEAD", ["m.py"])
    spans = [Span(1, 2, 1), Span(5, 6, 5)]
    for span, traced in zip(spans, trace_spans(log, "m.py", spans)):
        want = _git_log_l(repo, span.start, span.end, "m.py")
        assert [c.sha for c in traced.changes] and \
            {c.sha for c in traced.changes} == set(want)
    merge = git(repo, "rev-parse", "HEAD")
    assert merge in _git_log_l(repo, 1, 2, "m.py")
    assert merge not in _git_log_l(repo, 5, 6, "m.py")
