"""function_history and hotspots against what git reports, on temp repositories that once
broke them: a user's git config that changes patch output, file names git C-quotes or reads
as pathspec patterns, a path reused after a rename, uncommitted edits, a shallow clone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from codeintel_assets import run
from codeintel_assets.extract.line_trace import Span, trace_spans
from codeintel_assets.tools.git_history import churn_log, patch_log
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets_tests.conftest import (
    GIT_ENV,
    git,
    make_git_repo,
    rows,
    write_files,
)
from codeintel_assets_tests.test_history import SELECT, _commit

F = "def f(x):\n    return x + 1\n\n\ndef g(y):\n    return y\n"


def _git_log_l(repo: Path, start: int, end: int, path: str) -> list[str]:
    """`git log -L` with literal pathspecs (its own -L reads `:top.py` as magic too)."""
    return subprocess.run(
        ["git", "-C", str(repo), "log", f"-L{start},{end}:{path}", "--format=%H", "-s"],
        check=True, capture_output=True, text=True,
        env={**os.environ, **GIT_ENV, "GIT_LITERAL_PATHSPECS": "1"}).stdout.split()


def _traced(repo: Path, path: str, span: Span) -> list[str]:
    """The commits our trace finds for `span` of `path` (former names from churn_log)."""
    names = churn_log(ToolRunner(), str(repo), "HEAD", [path]).names[path]
    log = patch_log(ToolRunner(), str(repo), "HEAD", names)
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
    churn = churn_log(ToolRunner(), str(repo), "HEAD", ["a.py", "b.py"])
    shas = {p: [c.sha for c in churn.commits[p]] for p in ("a.py", "b.py")}
    assert shas["a.py"] == git(repo, "log", "-1", "--format=%H").split()
    assert shas["b.py"] == git(repo, "log", "--follow", "--format=%H", "--", "b.py").split()
    assert churn.names == {"a.py": ("a.py",), "b.py": ("a.py", "b.py")}
    assert _traced(repo, "a.py", Span(1, 2, 1)) == _git_log_l(repo, 1, 2, "a.py")
    assert _traced(repo, "b.py", Span(1, 2, 1)) == _git_log_l(repo, 1, 2, "b.py")


def _history(db: Path) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in rows(db, """
        SELECT g.qualname, h.created_in_commit, h.last_modified_commit, h.commit_count,
               h.lines_added, h.stability_bucket, h.age_days
        FROM analytics.function_history h JOIN core.goids g USING (goid)""")}


def test_uncommitted_edits_map_to_head_as_git_blame_does(tmp_path):
    """A line inserted above f and g and a new function h, uncommitted: f and g keep the
    history of their HEAD lines; h, in no commit, has no creation commit, no commits and is
    'new'; an uncommitted edit inside g is no commit of g."""
    repo = _edited_repo(tmp_path / "widgets", ["m.py"])
    head = (repo / "m.py").read_text()
    write_files(repo, {"m.py": "import os\n" + head.replace("return -y", "return -y  # z")
                       + "\n\ndef h():\n    return os.sep\n"})
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    got = _history(db)
    for name, (start, end) in {"m.f": (1, 2), "m.g": (5, 6)}.items():
        want = _git_log_l(repo, start, end, "m.py")
        blame = git(repo, "blame", "--porcelain", "-L", f"{start},+1", "HEAD", "--",
                    "m.py").split()[0]
        assert got[name][:3] == (blame, want[0], len(want)), name
    assert got["m.h"] == (None, None, 0, 0, "new", None)


def test_shallow_clone_says_so_and_leaves_creation_unknown(tmp_path):
    """`git clone --depth 2`: history_status shallow; the boundary commit is no change and
    no creation: f (edited after it) counts that edit, g counts nothing, and neither gets
    a creation commit or an age."""
    repo = _edited_repo(tmp_path / "widgets", ["m.py"])
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo}", str(clone)],
                   check=True)
    db = tmp_path / "ci.duckdb"
    result = run.materialize(SELECT, target=str(clone), db=str(db), tools=[],
                             console_log=False)
    assert result.success
    head = git(clone, "rev-parse", "HEAD")
    got = _history(db)
    assert got["m.g"][:4] == (None, head, 1, 1)
    assert got["m.f"][:4] == (None, None, 0, 0)
    assert got["m.f"][5] is None and got["m.g"][5] is None
    assert rows(db, "SELECT rel_path, commit_count, history_status FROM analytics.hotspots") \
        == [("m.py", 1, "shallow")]
    for node in ("hotspots", "function_history"):
        meta = next(m.metadata for m in result.asset_materializations_for_node(node))
        assert meta["history_status"].value == "shallow"
        assert "shallow" in meta["note"].value


def test_uncommitted_edit_updates_like_a_full_rebuild(tmp_path):
    """After a clean run, an uncommitted line above f re-traces the file (its core.goids
    rows changed) and gives what a full rebuild gives."""
    repo = _edited_repo(tmp_path / "widgets", ["m.py", "n.py"])
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    write_files(repo, {"m.py": "import os\n" + (repo / "m.py").read_text()})
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                             console_log=False)
    meta = next(m.metadata for m in result.asset_materializations_for_node("function_history"))
    assert meta["mode"].value == "incremental" and meta["read_paths"].value == ["m.py"]
    query = "SELECT * EXCLUDE (commit) FROM analytics.function_history ORDER BY goid"
    full = tmp_path / "full.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(full), tools=[],
                           console_log=False).success
    assert rows(db, query) == rows(full, query)
    assert _history(db)["m.f"][0] == git(repo, "rev-list", "--max-parents=0", "HEAD")


def test_unshallow_fetch_traces_every_file_again(tmp_path):
    """Deepening a shallow clone changes history under the same HEAD: a full rebuild."""
    repo = _edited_repo(tmp_path / "widgets", ["m.py"])
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)],
                   check=True)
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(clone), db=str(db), tools=[],
                           console_log=False).success
    subprocess.run(["git", "-C", str(clone), "fetch", "-q", "--unshallow"], check=True)
    result = run.materialize(SELECT, target=str(clone), db=str(db), tools=[],
                             console_log=False)
    meta = next(m.metadata for m in result.asset_materializations_for_node("function_history"))
    assert meta["mode"].value == "full" and meta["history_status"].value == "git"
    assert _history(db)["m.f"][0] == git(clone, "rev-list", "--max-parents=0", "HEAD")
