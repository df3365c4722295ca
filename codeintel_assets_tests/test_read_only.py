"""The warehouse never edits the tree it indexes, whatever the target's configuration asks.

One real run of every asset with every tool (pyright, pyrefly, ruff, the test run, scip-python) on
a Git checkout whose configuration asks for writes: ruff `fix`, `unsafe-fixes` and `fix-only`
(which `--no-fix` alone does not override) with excludes at the root and in a nested
ruff.toml, a pyrefly baseline
with `baseline-auto-update`, pytest's `log_file`, `cache_dir` and a `--junitxml` addopt, a
coverage `data_file`; a tracked file whose stat is stale in .git/index, so a `git status` that
took git's optional lock would rewrite the index. (pyright 1.1.414 has no setting that writes:
no baseline, its temporary files go to its tmp dir.) Every file under the root, `.git/`
included and only `.codeintel/` left out, has the same bytes afterwards; the suite itself
writes nothing. The run is made from inside the checkout, as a user runs it, so a tool that
writes into its working directory is caught too.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeintel_assets import run
from codeintel_assets.tools import ruff
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets_tests.conftest import (
    GIT_ENV,
    checks,
    git,
    make_git_repo,
    rows,
    write_files,
)

FIXABLE = "import os\nimport sys\n\n\n\n\ndef f():\n    return 1\n"

FILES = {
    "pyproject.toml": """[project]
name = "demo"
version = "0.1"

[tool.ruff]
fix = true
fix-only = true
unsafe-fixes = true
show-fixes = true
extend-exclude = ["examples/"]

[tool.ruff.lint]
select = ["F", "I", "E", "W", "UP"]

[tool.pytest.ini_options]
pythonpath = ["."]
log_file = "pytest-run.log"
cache_dir = ".pytest_cache_of_the_target"
addopts = "--junitxml=junit.xml"

[tool.coverage.run]
data_file = "target.coverage"
""",
    "sub/ruff.toml": 'extend = "../pyproject.toml"\nextend-exclude = ["generated/"]\n',
    "pyrefly.toml": 'baseline = "pyrefly-baseline.json"\nbaseline-auto-update = true\n',
    # A stale entry (no such error exists): a baseline that updated itself would drop it.
    "pyrefly-baseline.json": '{"errors": [{"column": 1, "path": "pkg/mod.py", '
                             '"name": "bad-assignment", "concise_description": "gone", '
                             '"severity": "error"}]}\n',
    ".gitignore": "pkg/_version.py\n",
    "pkg/__init__.py": "",
    "pkg/mod.py": FIXABLE,
    "examples/demo.py": FIXABLE,
    "sub/tool.py": FIXABLE,
    "sub/generated/gen.py": FIXABLE,
    "tests/test_mod.py": "from pkg.mod import f\n\n\ndef test_f():\n    assert f() == 1\n",
}
# Untracked: one ignored (a user's `ruff check` skips it), two not.
UNTRACKED = {"pkg/_version.py": FIXABLE, "scratch.py": FIXABLE, "notes.txt": "todo\n"}
# What a user's `ruff check` at the root leaves out: its excludes (the root's and the nested
# config's) and its .gitignore.
RUFF_SKIPS = {"examples/demo.py", "sub/generated/gen.py", "pkg/_version.py"}
LINTED = {"pkg/mod.py", "sub/tool.py", "scratch.py"}  # the fixable files ruff does lint


def snapshot(root: Path) -> dict[str, str]:
    """rel_path -> sha256 of every file under `root` ('<dir>' for a folder), `.git/` included,
    the warehouse's own `.codeintel/` left out."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        if rel == Path(".codeintel"):
            dirs[:] = []
            continue
        for d in dirs:
            found[(rel / d).as_posix()] = "<dir>"
        for name in files:
            path = Path(folder, name)
            found[(rel / name).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    found.pop(".codeintel", None)
    return found


def status(repo: Path) -> str:
    """`git status --porcelain` without git's optional index lock (so asking does not write)."""
    return subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "-uall"],
                          check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV, "GIT_OPTIONAL_LOCKS": "0"}).stdout


def test_a_full_run_writes_nothing_into_the_tree(tmp_path, monkeypatch):
    repo = make_git_repo(tmp_path / "demo", FILES)
    write_files(repo, UNTRACKED)
    # Same bytes, newer mtime: .git/index's stat of pkg/mod.py is stale now, so a `git status`
    # or `git diff` that may take the index lock would refresh (rewrite) .git/index.
    later = os.stat(repo / "pkg/mod.py").st_mtime + 100
    os.utime(repo / "pkg/mod.py", (later, later))
    before, status_before = snapshot(repo), status(repo)
    assert "?? scratch.py" in status_before and "_version" not in status_before

    monkeypatch.chdir(repo)
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the harness must set it
    result = run.materialize("*", target=str(repo), console_log=False)
    assert result.success
    completed = {k: ok for k, ok in checks(result).items() if k.endswith("_completed")}
    # every tool ran: pyright, pyrefly, ruff, scip-python, the test run (two tables), git (three)
    assert len(completed) == 9 and all(completed.values()), completed

    after = snapshot(repo)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert changed == [], f"changed in the tree: {changed}"
    assert status(repo) == status_before
    assert (repo / ".codeintel" / ".gitignore").read_text() == "*\n"

    db = repo / ".codeintel" / "codeintel.duckdb"
    linted = {p for (p,) in rows(db, "SELECT DISTINCT rel_path FROM analytics.diagnostics "
                                     "WHERE tool = 'ruff'")}
    assert linted == LINTED
    [meta] = [e.event_specific_data.metadata for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.asset_check_key.name == "ruff_completed"]
    # The gitignored pkg/_version.py is not scanned at all (the scan follows the ignore rules):
    # ruff is not given it, so only the other two are left out by ruff's own excludes.
    assert meta["excluded_files"].value == len(RUFF_SKIPS - {"pkg/_version.py"})
    # The suite really ran (and wrote only into the warehouse folder).
    assert rows(db, "SELECT test_id, status FROM analytics.test_catalog") == [
        ("tests/test_mod.py::test_f", "passed")]


def test_ruff_lints_what_ruff_check_lints_and_fixes_nothing(tmp_path):
    """ruff alone, the same configuration: files passed explicitly honour the root's and the
    nested excludes and .gitignore, as a user's `ruff check` at the root does; nothing is
    written. `--isolated` (the fallback for a refused configuration) drops the configuration,
    so its excludes too, but still skips what Git ignores and still writes nothing."""
    root = tmp_path / "lint"
    write_files(root, {k: v for k, v in FILES.items() if "ruff" in k or k.endswith(".py")
                       or k in ("pyproject.toml", ".gitignore")})
    write_files(root, UNTRACKED)
    git(root, "init", "-q")  # ruff reads .gitignore only in a Git checkout, as git does
    files = sorted(p for p in snapshot(root) if p.endswith(".py"))
    before = snapshot(root)
    exe = str(Path(sys.executable).parent / "ruff")

    found = ruff.run(ToolRunner(), str(root), files, exe, timeout_s=60)
    assert {r["rel_path"] for r in found.rows} == LINTED
    assert {r["code"] for r in found.rows} == {"F401", "I001"} and found.excluded == 3
    fallback = ruff.run(ToolRunner(), str(root), files, exe, timeout_s=60, isolated=True)
    assert {r["rel_path"] for r in fallback.rows} == {r["rel_path"] for r in found.rows} | {
        "examples/demo.py", "sub/generated/gen.py"} and fallback.excluded == 1
    assert snapshot(root) == before


@pytest.mark.parametrize("name", [".codeintel", "elsewhere"])
def test_the_warehouse_folder_ignores_itself(tmp_path, name):
    """Only a folder named `.codeintel` gets the `.gitignore`: a database configured elsewhere
    (a user's own folder) is never given one. The folder is made by the first connection."""
    from codeintel_assets.storage.gateway import StorageGateway

    gateway = StorageGateway(tmp_path / name / "codeintel.duckdb")
    assert not (tmp_path / name).exists()  # a reader of no warehouse leaves nothing behind
    gateway.query("SELECT 1")
    ignore = tmp_path / name / ".gitignore"
    assert ignore.exists() is (name == ".codeintel")
