"""Incremental static tools (storage/diagnostics_update.py, storage/import_closure.py): which
files each tool checks after a push, and the property that matters: after any sequence of
edits, adds, deletes and renames, analytics.diagnostics, analytics.static_diagnostics,
analytics.typedness and analytics.tool_failures equal a full rebuild row for row."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from unittest import mock

import dagster as dg
import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeintel_assets import run
from codeintel_assets.defs.ingest import goids, repo_scan
from codeintel_assets.defs.static_analysis import TYPING_TABLES, typing_ingest
from codeintel_assets.storage import diagnostics_update
from codeintel_assets.storage.compare import table_differences
from codeintel_assets.storage.import_closure import (
    ImportIndex,
    StatementNames,
    affected_files,
    path_name,
    source_root,
    statement_names,
)
from codeintel_assets_tests.conftest import SHAPES, git, make_git_repo, write_files
from codeintel_assets_tests.test_incremental import PY_CONTENTS, commit_round
from codeintel_assets_tests.test_isolate import DEEP

SELECT = dg.AssetSelection.assets(repo_scan, goids, typing_ingest)
STATIC = ["pyright", "pyrefly", "ruff"]

# ---- the import closure ----------------------------------------------------------------------


def test_names_of_files_and_statements():
    assert [path_name(p) for p in ("src/pkg/b.py", "pkg/__init__.py", "tools", "x.pyi")] == \
        ["src.pkg.b", "pkg", "tools", "x"]
    assert source_root("src/pkg/a.py", "pkg.a") == "src"
    assert source_root("tests/conftest.py", "conftest@tests/conftest.py") is None
    # Absolute: every prefix of the target, under each search root and under the file's own
    # folder and each folder above it (pyrefly's fallback search path).
    assert statement_names("app/x.py", "app.x", "a.b", 0) == \
        StatementNames(("a", "a.b"), ("app.a", "app.a.b"))
    assert statement_names("app/sub/x.py", "app.sub.x", "a", 0).located == ("app.sub.a", "app.a")
    # Relative: the target under the folder it climbs to, whatever the module name says.
    assert statement_names("src/pkg/a.py", "pkg.a", "pkg.b.c", 1).located == \
        ("src.pkg", "src.pkg.b", "src.pkg.b.c")
    assert statement_names("pkg/sub/__init__.py", "pkg.sub", "pkg.a", 2).located == \
        ("pkg", "pkg.a")
    # Climbing above the top-level package: Python fails, pyright resolves by folder.
    assert statement_names("conftest.py", "conftest", ".a", 1).located == ("", "a")
    index = ImportIndex.from_rows([{"rel_path": "src/pkg/a.py", "module": "pkg.a",
                                    "imported": "pkg.b", "level": 0}])
    assert index.roots == ("", "src")
    for name in ("pkg", "pkg.b", "src.pkg", "src.pkg.b", "src.pkg.pkg.b"):
        assert index.importers(name) == {"src/pkg/a.py"}, name
    assert index.importers("lib.pkg.b") == set()


def _index(imports: dict[str, list[str]]) -> ImportIndex:
    return ImportIndex.from_rows({"rel_path": f, "module": f[:-3].replace("/", "."),
                                  "imported": i, "level": 0}
                                 for f, names in imports.items() for i in names)


def test_closure_is_transitive_and_counts_packages_and_deletes():
    index = _index({"app.py": ["pkg.api"], "pkg/api.py": ["pkg.core.models"],
                    "other.py": ["os"], "cli.py": ["app"], "pkg/core/models.py": []})
    files = {"app.py", "pkg/api.py", "other.py", "cli.py", "pkg/core/models.py",
             "pkg/__init__.py"}
    assert affected_files(index, {"pkg/core/models.py"}, files, files, ()) == \
        {"pkg/core/models.py", "pkg/api.py", "app.py", "cli.py"}
    # `import pkg.api` reads pkg/__init__.py: its importers are all of pkg's.
    assert affected_files(index, {"pkg/__init__.py"}, files, files, ()) == \
        {"pkg/__init__.py", "pkg/api.py", "app.py", "cli.py"}
    # A deleted module: its importers still name it (an unresolved import now).
    after = files - {"pkg/core/models.py"}
    assert affected_files(index, {"pkg/core/models.py"}, files, after,
                          {"pkg/core/models.py"}) == {"pkg/api.py", "app.py", "cli.py"}
    assert affected_files(index, {"other.py"}, files, files, ()) == {"other.py"}


def test_a_namespace_package_that_vanishes_reaches_its_importers():
    index = _index({"main.py": ["tools"], "tools/d.py": []})
    before = {"main.py", "tools/d.py"}
    assert affected_files(index, {"tools/d.py"}, before, {"main.py"}, {"tools/d.py"}) == \
        {"main.py"}


# ---- the pipeline ----------------------------------------------------------------------------

BASE = {
    "pkg/__init__.py": "from .a import f\n",
    "pkg/a.py": "def f(x: int) -> int:\n    return x\n",
    "pkg/sub/b.py": "from pkg.a import f\n\nVALUE: str = f(1)\n",
    "app.py": "import pkg.sub.b\n\nprint(pkg.sub.b.VALUE.upper())\n",
    "leaf.py": "import os\n\n\ndef g():\n    return os.sep\n",
    "src/c.py": "def f(x: int) -> bytes:\n    return bytes(x)\n",
    "tools/d.py": "def f(x: int) -> int:\n    return x\n",
}


def _materialize(repo: Path, db: Path, shape=SHAPES[0], **kwargs):
    result = shape.materialize(SELECT, repo, db, tools=STATIC, full_rebuild_share=1.0,
                               **kwargs)
    assert result.success
    return {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}


def _update(meta) -> dict:
    return meta["analytics/diagnostics"]["static_update"].value


def test_a_push_checks_the_changed_files_and_their_importers(tmp_path):
    repo = make_git_repo(tmp_path / "r", BASE)
    db = tmp_path / "inc.duckdb"
    first = _update(_materialize(repo, db))
    assert {t: first[t]["mode"] for t in STATIC} == {t: "full" for t in STATIC}
    assert _update(_materialize(repo, db))["pyright"] == {
        "mode": "incremental", "files": 0, "reason": "no Python file changed"}
    # f now returns str: pkg/sub/b.py's annotation breaks, app.py (through it) is re-checked.
    write_files(repo, {"pkg/a.py": "def f(x: int) -> str:\n    return str(x)\n"})
    git(repo, "commit", "-qam", "edit a")
    with mock.patch.object(diagnostics_update, "CLOSURE_FULL_SHARE", 0.9):
        meta = _materialize(repo, db)
    plan = _update(meta)
    assert plan["ruff"] == {"mode": "incremental", "files": 1, "reason": "1 changed files of 7"}
    assert plan["pyrefly"] == plan["pyright"]
    assert plan["pyright"] == {"mode": "incremental", "files": 4,
                               "reason": "closure 4 files of 7 (1 changed)"}
    assert meta["analytics/diagnostics"]["pyright_reason"].value == plan["pyright"]["reason"]
    # The default bound (30%) makes the same closure a full run.
    write_files(repo, {"pkg/a.py": BASE["pkg/a.py"]})
    git(repo, "commit", "-qam", "revert a")
    assert _update(_materialize(repo, db))["pyright"]["reason"] == "full: closure 57% > 30%"
    _materialize(repo, tmp_path / "full.duckdb")
    assert table_differences(db, tmp_path / "full.duckdb", TYPING_TABLES) == {}


# Paths and contents dense in cross-file dependencies, so that most edits change the
# diagnostics of files they leave alone: a call of pkg.a.f, a package attribute, relative
# imports, `src/` and namespace-package imports; a syntax error and undecodable bytes.
TYPING_PATHS = ["pkg/__init__.py", "pkg/a.py", "pkg/sub/b.py", "app.py", "src/c.py",
                "tools/d.py", "conftest.py"]
TYPING_CONTENTS = [
    "def f(x: int) -> int:\n    return x\n",
    "def f(x: str) -> str:\n    return x\n",
    "from .a import f\n",
    "from pkg.a import f\n\nVALUE: str = f(1)\n",
    "import pkg.sub.b\n\nY: int = pkg.sub.b.VALUE\n",
    "from . import a\n\nZ: int = a.f('s')\n",
    "import tools.d\nfrom c import f\n\nW: bytes = f(tools.d.f(1))\n",
    # under pkg/sub/, pyrefly resolves `a` from a folder above the file (pkg/a.py)
    "import a\n\nV: str = a.f(1)\n",
    PY_CONTENTS[4], PY_CONTENTS[5],
]


def edit_rounds(contents: list[str]) -> st.SearchStrategy:
    """One or two commits of one to three operations on TYPING_PATHS (test_incremental.commit_round):
    writes of `contents` (twice as likely) or a delete/rename."""
    write_op = st.tuples(st.just("write"), st.sampled_from(TYPING_PATHS),
                         st.sampled_from(contents))
    move_op = st.tuples(st.sampled_from(["delete", "rename"]), st.sampled_from(TYPING_PATHS),
                        st.sampled_from(TYPING_PATHS))
    return st.lists(st.lists(st.one_of(write_op, write_op, move_op), min_size=1, max_size=3),
                    min_size=1, max_size=2)


rounds = edit_rounds(TYPING_CONTENTS)


@settings(max_examples=int(os.environ.get("CODEINTEL_HYPOTHESIS_EXAMPLES", "2")),
          deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds=rounds)
def test_incremental_diagnostics_equal_full_rebuild(rounds):
    """Random edit sequences: the static tools' tables updated after every round (pyright on
    its closure, whatever its size) equal those built from scratch on the final tree."""
    tmp = Path(tempfile.mkdtemp(prefix="codeintel-hyp-static-"))
    started = time.monotonic()
    try:
        repo = make_git_repo(tmp / "r", BASE)
        incremental = tmp / "incremental.duckdb"
        with mock.patch.object(diagnostics_update, "CLOSURE_FULL_SHARE", 1.0):
            _materialize(repo, incremental)
            for ops in rounds:
                commit_round(repo, ops)
                plan = _update(_materialize(repo, incremental))
                assert plan["pyright"]["mode"] == plan["pyrefly"]["mode"] == "incremental"
        _materialize(repo, tmp / "full.duckdb")
        assert table_differences(incremental, tmp / "full.duckdb", TYPING_TABLES) == {}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"example: {len(rounds)} rounds in {time.monotonic() - started:.1f}s")


def test_a_crash_on_a_file_not_checked_again_still_fails_the_check(tmp_path):
    """ruff crashes on deep.py (test_isolate.py): an edit of another file lints that file
    only, keeps deep.py's failure row, and the WARN check still fails, as a full run's."""
    repo = make_git_repo(tmp_path / "deep", {"deep.py": DEEP, "a.py": "import os\n"})
    db = tmp_path / "d.duckdb"
    select = "core/file_state,core/ast_nodes,core/imports,analytics/diagnostics," \
             "analytics/tool_failures"
    assert run.materialize(select, target=str(repo), db=str(db), tools=["ruff"]).success
    write_files(repo, {"a.py": "import sys\n"})
    git(repo, "commit", "-qam", "edit a")
    result = run.materialize(select, target=str(repo), db=str(db), tools=["ruff"])
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    assert meta["analytics/diagnostics"]["static_update"].value["ruff"]["files"] == 1
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT tool, rel_path FROM analytics.tool_failures").fetchall() == \
            [("ruff", "deep.py")]
    [check] = [e.event_specific_data for e in result.all_events
               if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and e.event_specific_data.asset_check_key.name == "ruff_completed"]
    assert not check.passed and check.metadata["status"].value == "crashed"
    assert "deep.py (earlier runs; not checked again)" in check.metadata["reason"].value


def test_a_commit_that_checks_no_file_keeps_the_typing_tables(tmp_path):
    """An empty commit and a touch (new mtime, same bytes) check no file: typedness,
    static_diagnostics and tool_failures are kept as they are (materialized as unchanged, rows
    at the new commit), not re-read and rewritten; an edit after that rebuilds them, and they
    equal a full rebuild. (No crashing file here: ruff's crash on DEEP depends on the files it
    is given, so a full run's tool_failures legitimately name more files.)"""
    repo = make_git_repo(tmp_path / "r", {"b.py": "import os\n", "a.py": "import os\n\n\n"
                                          "def f(x: int, y):\n    return x\n"})
    db, full = tmp_path / "d.duckdb", tmp_path / "full.duckdb"
    select = "core/file_state,core/ast_nodes,core/imports,analytics/diagnostics," \
             "analytics/tool_failures,analytics/typedness,analytics/static_diagnostics"
    kept = ("analytics/typedness", "analytics/static_diagnostics", "analytics/tool_failures")

    def update() -> dict:
        result = run.materialize(select, target=str(repo), db=str(db), tools=["ruff"])
        return {e.asset_key.to_user_string(): e.materialization.metadata
                for e in result.get_asset_materialization_events()}

    def rows() -> dict[str, list]:
        with duckdb.connect(str(db), read_only=True) as con:
            return {t: con.execute(f"SELECT * EXCLUDE (\"commit\") FROM {t.replace('/', '.')} "
                                   "ORDER BY ALL").fetchall() for t in kept}

    update()
    before = rows()
    assert before["analytics/typedness"] and before["analytics/static_diagnostics"]
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")
    os.utime(repo / "a.py")
    meta = update()
    assert all(meta[t]["unchanged"].value is True for t in kept), {t: meta[t] for t in kept}
    assert rows() == before
    sha = git(repo, "rev-parse", "HEAD")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute('SELECT DISTINCT "commit" FROM analytics.typedness').fetchall() == \
            [(sha,)]
    write_files(repo, {"a.py": "import os\n\n\ndef f(x: int, y: int) -> int:\n    return x\n"})
    git(repo, "commit", "-qam", "typed")
    meta = update()
    assert meta["analytics/typedness"]["unchanged"].value is False
    assert run.materialize(select, target=str(repo), db=str(full), tools=["ruff"]).success
    assert table_differences(db, full, TYPING_TABLES) == {}
