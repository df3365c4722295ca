"""function_history and hotspots on histories that once broke their promises (issue 18):
commit dates going back across the window, untracked then staged files, git refusing the
repository (dubious ownership), a commit made while a run is going, a submodule, an author
date after HEAD's; and the property that an incremental run equals a full build on random
histories of skewed dates and untracked, staged and committed files."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeintel_assets import run
from codeintel_assets.storage.compare import table_differences
from codeintel_assets_tests.conftest import (
    GIT_ENV,
    checks,
    git,
    make_git_repo,
    rows,
    write_files,
)
from codeintel_assets_tests.test_history import SELECT

HISTORY_TABLES = ["analytics.function_history", "analytics.hotspots"]
DAY = 86400
T0 = 1_700_000_000  # 2023-11-14: fixed dates, so the window's moves are the test's own


def _at(ts: int) -> dict[str, str]:
    """Author and committer date `ts` (Unix s) for _commit."""
    return {"GIT_AUTHOR_DATE": f"@{ts} +0000", "GIT_COMMITTER_DATE": f"@{ts} +0000"}


def _commit(repo: Path, message: str, files: dict[str, str] | None = None,
            **env: str) -> None:
    """Commit everything (an empty commit when nothing changed), `files` written first,
    `env` over GIT_ENV (dates, another author)."""
    write_files(repo, files or {})
    git(repo, "add", "-A")
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", message],
                   check=True, env={**os.environ, **GIT_ENV, **env})


def _build(repo: Path, db: Path, select: str = SELECT, **kwargs):
    result = run.materialize(select, target=str(repo), db=str(db), tools=[],
                             console_log=False, **kwargs)
    assert result.success
    return result


def _meta(result, node: str) -> dict:
    return {k: v.value for k, v in next(
        m.metadata for m in result.asset_materializations_for_node(node)).items()}


def _equals_full_build(repo: Path, db: Path, tmp: Path) -> None:
    full = tmp / "full.duckdb"
    if full.exists():
        full.unlink()
    _build(repo, full)
    assert table_differences(db, full, HISTORY_TABLES) == {}


def _counts(db: Path) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in rows(db, """
        SELECT qualname, commit_count, stability_bucket FROM analytics.function_history""")}


def test_window_moving_back_reads_the_commits_it_takes_in_again(tmp_path):
    """HEAD at T0+400d leaves f's commit (T0) out of the window; a child committed 'earlier'
    (T0+10d, clock skew) takes it back in: f counts it again, as a full build does."""
    repo = tmp_path / "widgets"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    _commit(repo, "f", {"a.py": "def f():\n    return 1\n"}, **_at(T0))
    _commit(repo, "g", {"b.py": "def g():\n    return 1\n"}, **_at(T0 + 400 * DAY))
    db = tmp_path / "ci.duckdb"
    _build(repo, db)
    assert _counts(db)["a.f"] == (0, "stable")
    _commit(repo, "g again", {"b.py": "def g():\n    return 2\n"}, **_at(T0 + 10 * DAY))
    _build(repo, db)
    assert _counts(db)["a.f"] == (1, "new")
    _equals_full_build(repo, db, tmp_path)


def test_untracked_file_is_new_and_staging_it_changes_nothing(tmp_path):
    """An untracked file is uncommitted code: its functions are 'new'; `git add` (no content
    change) leaves every row as a full build gives it."""
    repo = make_git_repo(tmp_path / "widgets", {"a.py": "def f():\n    return 1\n"})
    write_files(repo, {"u.py": "def u():\n    return 1\n"})
    db = tmp_path / "ci.duckdb"
    _build(repo, db)
    assert _counts(db)["u.u"] == (0, "new")
    git(repo, "add", "u.py")
    _build(repo, db)
    _equals_full_build(repo, db, tmp_path)
    assert _counts(db)["u.u"] == (0, "new")


def test_git_refusing_the_repository_is_reported_with_its_reason(tmp_path, monkeypatch):
    """A checkout owned by another user (CI containers): git refuses it ("detected dubious
    ownership"). The run stays green, history_status says git_refused, the metadata gives
    git's reason and the git_completed WARN checks fail; safe.directory allows it."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the checkout is chowned to another uid")
    repo = make_git_repo(tmp_path / "widgets", {"a.py": "def f():\n    return 1\n"})
    home = tmp_path / "home"
    home.mkdir()
    # No global or system config that could allow it (safe.directory) beyond the test's own.
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for path in (repo, repo / ".git"):
        os.chown(path, 12345, 12345)
    db = tmp_path / "ci.duckdb"
    result = _build(repo, db, f"{SELECT},core/repo_map")
    assert rows(db, "SELECT DISTINCT history_status FROM analytics.hotspots") == \
        [("git_refused",)]
    for node in ("repo_scan", "hotspots", "function_history"):
        assert "dubious ownership" in _meta(result, node)["git_error"], node
    for node in ("hotspots", "function_history"):
        assert _meta(result, node)["history_status"] == "git_refused"
    got = checks(result)
    for asset in ("core/repo_map", "analytics/hotspots", "analytics/function_history"):
        assert got[f"{asset}:git_completed"] is False, asset
    # What the README says: allow it, and the history is read.
    subprocess.run(["git", "config", "--global", "--add", "safe.directory", str(repo)],
                   check=True)
    db = tmp_path / "allowed.duckdb"  # the slug comes from git now: acme/widgets
    result = _build(repo, db, f"{SELECT},core/repo_map")
    assert rows(db, "SELECT DISTINCT history_status FROM analytics.hotspots") == [("git",)]
    assert all(checks(result)[f"{a}:git_completed"] for a in (
        "core/repo_map", "analytics/hotspots", "analytics/function_history"))


def test_commit_during_a_run_is_not_read_into_the_scanned_commits_rows(tmp_path):
    """repo_scan sees an uncommitted edit of f; the edit is committed before the history steps
    run: their rows are the scanned commit's (f's edit uncommitted, 'new'), as a build made
    before the commit gives them, not the later commit's."""
    repo = make_git_repo(tmp_path / "widgets", {"a.py": "def f():\n    return 1\n\n\n"
                                                "def g():\n    return 1\n"})
    write_files(repo, {"a.py": (repo / "a.py").read_text().replace("return 1", "return 2", 1)})
    before = tmp_path / "before.duckdb"
    _build(repo, before)
    db = tmp_path / "ci.duckdb"
    _build(repo, db, "*core/goids,*core/ast_metrics")  # the scan and what history reads
    _commit(repo, "f edited", **_at(T0 + DAY))
    _build(repo, db, "analytics/hotspots,analytics/function_history")
    assert table_differences(db, before, HISTORY_TABLES) == {}
    assert rows(db, "SELECT DISTINCT \"commit\" FROM analytics.function_history") == \
        [(git(repo, "rev-parse", "HEAD~1"),)]


def test_file_edited_after_the_scan_is_read_again_by_the_next_run(tmp_path):
    """A file edited between repo_scan and function_history (its spans are the scan's, the
    work tree's diff is not): its rows are not recorded in the ledger, so the next run reads
    it again even when the edit was reverted meanwhile."""
    text = "def f():\n    return 1\n\n\ndef g():\n    return 1\n"
    repo = make_git_repo(tmp_path / "widgets", {"a.py": text, "b.py": text})
    db = tmp_path / "ci.duckdb"
    _build(repo, db, "*core/goids,*core/ast_metrics")
    write_files(repo, {"a.py": "import os\n" + text})
    meta = _meta(_build(repo, db, "analytics/function_history"), "function_history")
    assert meta["read_paths"] == ["a.py", "b.py"] and meta["files_unrecorded"] == 1
    write_files(repo, {"a.py": text})  # back to what the scan saw
    meta = _meta(_build(repo, db), "function_history")
    assert meta["read_paths"] == ["a.py"] and meta["files_unrecorded"] == 0
    _equals_full_build(repo, db, tmp_path)


def test_submodule_history_is_unknown_and_age_is_never_negative(tmp_path):
    """Files of a submodule have no history in the superproject: history_status submodule,
    NULL history (risk: churn and hotspot unknown). An author date after HEAD's commit time
    gives age 0, not a negative age."""
    sub = make_git_repo(tmp_path / "lib", {"lib.py": "def lib():\n    return 1\n"})
    repo = make_git_repo(tmp_path / "widgets", {"a.py": "def f():\n    return 1\n"})
    subprocess.run(["git", "-C", str(repo), "-c", "protocol.file.allow=always", "submodule",
                    "add", "-q", str(sub), "vendor/lib"], check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})
    _commit(repo, "submodule")
    _commit(repo, "future author", {"b.py": "def b():\n    return 1\n"},
            GIT_AUTHOR_DATE=f"@{T0 + 5 * DAY} +0000", GIT_COMMITTER_DATE=f"@{T0} +0000")
    db = tmp_path / "ci.duckdb"
    _build(repo, db)
    assert dict(rows(db, "SELECT rel_path, history_status FROM analytics.hotspots")) == {
        "a.py": "git", "b.py": "git", "vendor/lib/lib.py": "submodule"}
    got = {r[0]: r[1:] for r in rows(db, """
        SELECT qualname, created_in_commit, commit_count, churn_score, stability_bucket,
               age_days FROM analytics.function_history""")}
    assert got["lib.lib"] == (None, None, None, None, None)
    assert got["b.b"][1:] == (1, 1.0, "new", 0.0)


# ---- the equivalence property ----------------------------------------------------------------

PATHS = ["a.py", "pkg/b.py", "c.py"]
CONTENTS = ["def f():\n    return 1\n", "def f():\n    return 2\n\n\ndef g():\n    return 3\n",
            "def g():\n    return 3\n"]
# Commit dates around T0: back and forth across the 365-day window.
OFFSETS = [0, 30, 200, 380, 420, 800]
step = st.tuples(st.sampled_from(PATHS), st.sampled_from(CONTENTS),
                 st.sampled_from(["commit", "stage", "untracked"]), st.sampled_from(OFFSETS))


@settings(max_examples=int(os.environ.get("CODEINTEL_HYPOTHESIS_EXAMPLES", "3")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=3))
def test_incremental_history_equals_full_build(steps):
    """Random rounds: a file written, then committed (at a date going back or forth across
    the window), staged only, or left untracked; after every round the incremental tables
    equal a full build's."""
    tmp = Path(tempfile.mkdtemp(prefix="codeintel-hyp-history-"))
    try:
        repo = tmp / "r"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        _commit(repo, "base", {"a.py": CONTENTS[0]}, **_at(T0))
        db = tmp / "ci.duckdb"
        _build(repo, db)
        for path, content, how, offset in steps:
            write_files(repo, {path: content})
            if how != "untracked":
                git(repo, "add", path)
            if how == "commit":
                _commit(repo, "round", **_at(T0 + offset * DAY))
            _build(repo, db)
        _equals_full_build(repo, db, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
