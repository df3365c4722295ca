"""Incremental ingestion: change sets, update plans, the gateway's delta writes, and the
property that matters: after any sequence of edits, adds, deletes and renames, the incremental
database equals a full rebuild of the same tree, row for row."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import types
from importlib import metadata
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codeintel_assets.definitions import defs
from codeintel_assets.defs.ingest import INGEST_SELECTION
from codeintel_assets.extract.scan import RACY_WINDOW_NS, split_unchanged
from codeintel_assets.storage.catalog import TableSpec, table
from codeintel_assets.storage.changes import ChangeSet, plan_update
from codeintel_assets.storage.compare import table_differences
from codeintel_assets.storage.gateway import (
    FileDelta,
    SchemaMismatchError,
    StorageGateway,
)
from codeintel_assets.storage.incremental import (
    extractor_version,
    fingerprint,
    fingerprint_hash,
    ledger_version,
)
from codeintel_assets_tests.conftest import SHAPES, Shape, git, make_git_repo, write_files

INGEST_TABLES = sorted(".".join(k.path) for k in INGEST_SELECTION.resolve(
    defs().resolve_asset_graph()))


# ---- change sets and plans -------------------------------------------------------------------


def test_change_set_diff_and_counts():
    changes = ChangeSet.diff({"a": "1", "b": "2", "gone": "3"}, {"a": "1", "b": "9", "new": "4"})
    assert changes == ChangeSet(added=("new",), modified=("b",), deleted=("gone",),
                                unchanged=("a",))
    assert changes.counts() == {"files_added": 1, "files_changed": 1, "files_deleted": 1,
                                "files_unchanged": 1}
    assert changes.to_extract == ("b", "new")
    assert changes.to_delete == ("b", "gone", "new")
    assert changes.share_changed() == 0.75
    assert ChangeSet.diff({}, {}).share_changed() == 0.0


def test_plan_update_triggers():
    files = {f"f{i}.py": "h" for i in range(10)}
    edited = {**files, "f0.py": "new"}
    assert not plan_update(("v1", files), edited, "v1").full
    plan = plan_update(("v1", files), edited, "v1")
    assert (plan.to_extract, plan.to_delete) == (("f0.py",), ("f0.py",))
    assert plan_update(None, edited, "v1").reason.startswith("no ledger")
    assert plan_update(("v0", files), edited, "v1").reason == "version changed (v0 -> v1)"
    assert plan_update(("v1", files), edited, "v1", force_full=True).full
    many = {p: "x" for p in list(files)[:6]}
    full = plan_update(("v1", files), {**files, **many}, "v1", full_rebuild_share=0.5)
    assert full.full and full.reason.startswith("60%")
    assert full.to_extract == tuple(sorted(files)) and full.to_delete == ()
    assert not plan_update(("v1", files), {**files, **many}, "v1", full_rebuild_share=0.7).full


def test_split_unchanged_reuses_only_files_with_the_same_stat(tmp_path):
    write_files(tmp_path, {"a.py": "a = 1\n", "b.py": "b = 1\n", "c.py": "c = 1\n"})
    old = time.time_ns() - 10 * RACY_WINDOW_NS
    for name in ("a.py", "b.py", "c.py"):
        os.utime(tmp_path / name, ns=(old, old))
    stat = {n: os.stat(tmp_path / n) for n in ("a.py", "b.py", "c.py")}
    previous = [{"rel_path": n, "size_bytes": s.st_size, "mtime_ns": s.st_mtime_ns}
                for n, s in stat.items()]
    (tmp_path / "b.py").write_text("b = 22\n")  # edited: size and mtime differ
    os.utime(tmp_path / "c.py", ns=(old + 5, old + 5))  # touched: mtime differs
    scan_started = time.time_ns()
    reused, to_scan = split_unchanged(tmp_path, ["a.py", "b.py", "c.py", "d.py"], previous,
                                      scan_started)
    assert [r["rel_path"] for r in reused] == ["a.py"]
    assert to_scan == ["b.py", "c.py", "d.py"]
    # An mtime close to the previous scan may hide a same-size edit: read it again.
    assert split_unchanged(tmp_path, ["a.py"], previous, old + RACY_WINDOW_NS)[0] == []
    assert split_unchanged(tmp_path, ["a.py"], previous, None) == ([], ["a.py"])


def test_versions_come_from_the_extractors_declarations():
    extractor = types.ModuleType("codeintel_assets.extract.fake")
    extractor.VERSION, extractor.LIBRARIES = 3, ("pyyaml", "python")
    python = "py{}.{}".format(*sys.version_info[:2])
    assert extractor_version(extractor, "max10") == \
        f"fake.v3+pyyaml{metadata.version('pyyaml')}+{python}+max10"
    extractor.VERSION = 4  # read when asked: a bump takes effect at once
    assert extractor_version(extractor).startswith("fake.v4+")
    assert ledger_version("core.ast_metrics", extractor) == \
        f"{table('core.ast_metrics').version()}/{extractor_version(extractor)}"
    assert fingerprint_hash(fingerprint("abc", "pkg.mod")) == "abc" == fingerprint("abc", None)


# ---- gateway ---------------------------------------------------------------------------------

SPEC: TableSpec = table("core.ast_metrics")


def _metrics(paths, commit="c1", loc=1):
    return SPEC.from_rows([{"repo": "acme/w", "commit": commit, "rel_path": p, "loc": loc}
                           for p in paths])


def _read(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_apply_delta_replaces_changed_paths_and_ledger(tmp_path):
    gateway = StorageGateway(tmp_path / "w.duckdb")
    assert gateway.ledger(SPEC, "acme/w") is None
    gateway.apply_delta(SPEC, "acme/w", FileDelta(
        _metrics(["a.py", "b.py", "c.py"]), (), {"a.py": "1", "b.py": "1", "c.py": "1"},
        "v1", "c1", True))
    gateway.replace_repo_rows(SPEC, "other/repo", SPEC.from_rows(
        [{"repo": "other/repo", "commit": "z", "rel_path": "b.py", "loc": 7}]))
    result = gateway.apply_delta(SPEC, "acme/w", FileDelta(
        _metrics(["b.py", "d.py"], "c2", loc=2), ("b.py", "c.py", "d.py"),
        {"a.py": "1", "b.py": "2", "d.py": "1"}, "v1", "c2", False))
    assert result.row_count == 3
    assert _read(tmp_path / "w.duckdb", "SELECT repo, rel_path, \"commit\", loc FROM "
                 "core.ast_metrics ORDER BY repo, rel_path") == [
        ("acme/w", "a.py", "c2", 1), ("acme/w", "b.py", "c2", 2), ("acme/w", "d.py", "c2", 2),
        ("other/repo", "b.py", "z", 7)]
    assert gateway.ledger(SPEC, "acme/w") == ("v1", {"a.py": "1", "b.py": "2", "d.py": "1"})
    # A whole-table write leaves rows without fingerprints: the ledger goes.
    gateway.replace_repo_rows(SPEC, "acme/w", _metrics(["a.py"]))
    assert gateway.ledger(SPEC, "acme/w") is None


def test_apply_delta_is_one_transaction(tmp_path):
    gateway = StorageGateway(tmp_path / "w.duckdb")
    gateway.apply_delta(SPEC, "acme/w", FileDelta(_metrics(["a.py"]), (), {"a.py": "1"},
                                                  "v1", "c1", True))
    foreign = SPEC.from_rows([{"repo": "evil/x", "commit": "c2", "rel_path": "a.py"}])
    with pytest.raises(SchemaMismatchError):
        gateway.apply_delta(SPEC, "acme/w", FileDelta(foreign, ("a.py",), {}, "v2", "c2", False))
    assert _read(tmp_path / "w.duckdb", "SELECT rel_path, \"commit\" FROM core.ast_metrics") == [
        ("a.py", "c1")]
    assert gateway.ledger(SPEC, "acme/w") == ("v1", {"a.py": "1"})
    with pytest.raises(SchemaMismatchError, match="not a file-level table"):
        gateway.apply_delta(table("core.repo_map"), "acme/w",
                            FileDelta(pa.table({}), (), {}, "v", "c", True))


# ---- pipeline: incremental runs --------------------------------------------------------------


def _materialize(repo: Path, db: Path, select=INGEST_SELECTION, shape: Shape = SHAPES[0],
                 **kwargs):
    result = shape.materialize(select, repo, db, tools=[], full_rebuild_share=1.0, **kwargs)
    assert result.success
    return {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}


BASE = {
    "pkg/__init__.py": '"""Package."""\n',
    "pkg/a.py": 'import os\n\ndef f(x):\n    """Return x.\n\n    Args:\n        x: value\n    """\n'
                '    return x\n',
    "app.toml": "[database]\nhost = 'db'\ntimeout = 3\n",
}


def _age(repo: Path) -> None:
    """Set every file's mtime an hour back, out of the racy window of the next scan."""
    old = time.time_ns() - 3600 * 10**9
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            os.utime(path, ns=(old, old))


def test_one_file_edit_reads_only_that_file(tmp_path):
    repo = make_git_repo(tmp_path / "r", {**BASE, "pkg/b.py": "class B:\n    pass\n"})
    _age(repo)
    db = tmp_path / "inc.duckdb"
    first = _materialize(repo, db)
    assert first["core/ast_nodes"]["mode"].value == "full"
    write_files(repo, {"pkg/a.py": BASE["pkg/a.py"] + "\ndef g():\n    return 'host'\n"})
    git(repo, "commit", "-qam", "edit a")
    meta = _materialize(repo, db)
    for asset in ("core/ast_nodes", "core/cst_nodes", "core/docstrings", "core/goids",
                  "core/string_literals"):
        assert meta[asset]["mode"].value == "incremental", asset
        assert meta[asset]["files_extracted"].value == 1, asset
        assert meta[asset]["files_changed"].value == 1, asset
    assert meta["core/file_state"]["files_read"].value == 1
    assert meta["analytics/config_values"]["files_extracted"].value == 0
    head = git(repo, "rev-parse", "HEAD")
    assert _read(db, 'SELECT DISTINCT "commit" FROM core.cst_nodes') == [(head,)]
    assert _read(db, "SELECT files_changed, files_unchanged FROM core.repo_map") == [(1, 3)]
    assert _read(db, "SELECT reference_paths FROM analytics.config_values "
                     "WHERE key = 'database.host'") == [('["pkg/a.py"]',)]
    rebuilt = _materialize(repo, db, full_rebuild=True)
    assert rebuilt["core/ast_nodes"]["reason"].value == "full rebuild requested"
    assert rebuilt["core/file_state"]["files_read"].value == 4


def test_extractor_version_change_rebuilds(tmp_path, monkeypatch):
    repo = make_git_repo(tmp_path / "r", BASE)
    db = tmp_path / "inc.duckdb"
    _materialize(repo, db)
    from codeintel_assets.extract import cst
    monkeypatch.setattr(cst, "VERSION", cst.VERSION + 1)
    meta = _materialize(repo, db)
    assert meta["core/cst_nodes"]["reason"].value.startswith("version changed")
    assert meta["core/ast_nodes"]["mode"].value == "incremental"
    assert meta["core/ast_nodes"]["files_extracted"].value == 0


def test_edit_between_scan_and_extraction_is_not_recorded(tmp_path):
    """A file edited after repo_scan and reverted later must not keep rows of the edit."""
    repo = make_git_repo(tmp_path / "r", BASE)
    db = tmp_path / "inc.duckdb"
    _materialize(repo, db)
    b = BASE["pkg/a.py"] + "\ndef b():\n    pass\n"
    write_files(repo, {"pkg/a.py": b})
    _materialize(repo, db, select="core/file_state")
    write_files(repo, {"pkg/a.py": b + "\ndef during_the_run():\n    pass\n"})
    meta = _materialize(repo, db, select="core/ast_nodes,core/goids")
    assert meta["core/ast_nodes"]["files_unrecorded"].value == 1
    write_files(repo, {"pkg/a.py": b})  # back to what the scan saw
    _materialize(repo, db)
    _materialize(repo, tmp_path / "full.duckdb")
    assert table_differences(db, tmp_path / "full.duckdb", INGEST_TABLES) == {}


def test_goids_without_an_ast_nodes_ledger_rebuild_without_duplicates(tmp_path):
    repo = make_git_repo(tmp_path / "r", BASE)
    db = tmp_path / "inc.duckdb"
    _materialize(repo, db)
    with duckdb.connect(str(db)) as con:  # as written before ledgers existed
        con.execute("DELETE FROM _codeintel.table_versions WHERE table_name = 'core.ast_nodes'")
    for _ in range(2):
        meta = _materialize(repo, db, select="core/goids")
        assert meta["core/goids"]["mode"].value == "full"
    assert _read(db, "SELECT count(*), count(DISTINCT goid) FROM core.goids") == [(3, 3)]


def test_subsets_of_repo_scan_and_config_ingest(tmp_path):
    repo = make_git_repo(tmp_path / "r", BASE)
    db = tmp_path / "inc.duckdb"
    _materialize(repo, db)
    (scanned_at,) = _read(db, "SELECT generated_at FROM core.repo_map")
    # repo_map alone: its generated_at keeps describing the scan that wrote core.file_state.
    _materialize(repo, db, select="core/repo_map")
    assert _read(db, "SELECT generated_at FROM core.repo_map") == [scanned_at]
    write_files(repo, {"pkg/c.py": "PORT = 'timeout'\n"})
    _materialize(repo, db, select="core/file_state")
    # The literals come from ast_extract's one parse; config_values matches the stored ones.
    meta = _materialize(repo, db, select="core/string_literals")
    assert meta["core/string_literals"]["files_extracted"].value == 1
    assert "core/ast_nodes" not in meta
    meta = _materialize(repo, db, select="analytics/config_values")
    assert "core/string_literals" not in meta
    assert _read(db, "SELECT reference_paths FROM analytics.config_values "
                     "WHERE key = 'database.timeout'") == [('["pkg/c.py"]',)]
    _materialize(repo, db)
    _materialize(repo, tmp_path / "full.duckdb")
    assert table_differences(db, tmp_path / "full.duckdb", INGEST_TABLES) == {}


# Contents the random edits draw from: definitions, redefinitions, decorators, docstrings,
# literals naming config keys, a syntax error and undecodable bytes.
PY_CONTENTS = [
    "def f(x):\n    return x\n",
    '"""Doc."""\nfrom . import a\n\nclass A:\n    def m(self, y: int) -> int:\n'
    '        """Method.\n\n        Args:\n            y: a value\n        """\n        return y\n',
    "import functools\n\n@functools.cache\ndef g():\n    pass\n\ndef g():\n    return 'host'\n",
    'X = "database.host"\nY = "timeout"\n',
    "def broken(:\n",
    b"x = '\xff'\n",
]
CONFIG_CONTENTS = ["[database]\nhost = 'db'\ntimeout = 3\n", "database:\n  host: other\n",
                   '{"timeout": 1, "database": {"host": "x"}}', "not: [valid\n"]
# tools/json.py makes tools a namespace package, and the two conftest.py share a name: edits
# that rename other files (extract/naming.py).
PY_PATHS = ["pkg/__init__.py", "pkg/a.py", "pkg/sub/b.py", "src/c.py", "src/__init__.py",
            "tools/d.py", "tools/json.py", "conftest.py", "tests/conftest.py"]
CONFIG_PATHS = ["app.toml", "conf/settings.yaml", "data.json"]

write_op = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(PY_PATHS), st.sampled_from(PY_CONTENTS)),
    st.tuples(st.just("write"), st.sampled_from(CONFIG_PATHS), st.sampled_from(CONFIG_CONTENTS)),
)
move_op = st.tuples(st.sampled_from(["delete", "rename"]),
                    st.sampled_from(PY_PATHS + CONFIG_PATHS), st.sampled_from(PY_PATHS))
rounds = st.lists(st.lists(st.one_of(write_op, move_op), min_size=1, max_size=4),
                  min_size=1, max_size=3)


def _apply(root: Path, op: tuple) -> None:
    kind, path, arg = op
    target = root / path
    if kind == "write":
        write_files(root, {path: arg})
    elif target.exists() and kind == "delete":
        target.unlink()
    elif target.exists() and kind == "rename" and path.endswith(".py"):
        (root / arg).parent.mkdir(parents=True, exist_ok=True)
        target.replace(root / arg)


def commit_round(repo: Path, ops: list[tuple]) -> None:
    """Apply one round of edits (`_apply`) and commit them (an empty commit if they left
    the tree as it was)."""
    for op in ops:
        _apply(repo, op)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "round")


def test_a_new_file_that_renames_others_equals_full_rebuild(tmp_path):
    """Module names depend on the whole tree (extract/naming.py): a root conftest.py takes
    `conftest` from tests/conftest.py, and tools/json.py makes `tools` a namespace package
    (tools/d.py: d -> tools.d). The incremental run re-extracts the renamed files."""
    repo = make_git_repo(tmp_path / "r", {**BASE, "tools/d.py": "def d():\n    return 1\n",
                                          "tests/conftest.py": "def fixture():\n    pass\n"})
    incremental = tmp_path / "incremental.duckdb"
    _materialize(repo, incremental)
    write_files(repo, {"conftest.py": "", "tools/json.py": ""})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rename by addition")
    _materialize(repo, incremental)
    _materialize(repo, tmp_path / "full.duckdb")
    assert table_differences(incremental, tmp_path / "full.duckdb", INGEST_TABLES) == {}
    got = StorageGateway(incremental).query(
        "SELECT rel_path, qualname FROM core.goids WHERE kind = 'module' ORDER BY 1").to_pylist()
    assert {r["rel_path"]: r["qualname"] for r in got}["tools/d.py"] == "tools.d"
    assert {r["rel_path"]: r["qualname"] for r in got}["tests/conftest.py"] == \
        "conftest@tests/conftest.py"


# Derived steps on top of the file-level tables: kept (materialized as unchanged) when their
# inputs' content tokens are those they were built from, rebuilt otherwise; either way equal to
# a rebuild (the call graph reads core.goids, definition_refs, call_sites and imports).
DERIVED = ("graph.call_graph_nodes", "graph.call_graph_edges", "graph.import_graph_edges",
           "graph.import_modules")
WITH_DERIVED = INGEST_SELECTION | dg.AssetSelection.assets(
    *(dg.AssetKey(n.split(".")) for n in DERIVED))


@settings(max_examples=int(os.environ.get("CODEINTEL_HYPOTHESIS_EXAMPLES", "4")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rounds=rounds)
# A round that changes nothing (a rename of a config file is not applied): a no-change commit.
@example(rounds=[[("rename", "app.toml", "x.py")]])
def test_incremental_equals_full_rebuild(rounds):  # the single shape; the fleet's is below
    """Random edit sequences on a temp Git repository: the database updated after every round
    equals one built from scratch on the final tree (file_state included, so deletes and
    renames leave nothing behind), the derived tables too, kept or rebuilt; after a commit
    that changed no file every derived table is kept."""
    tmp = Path(tempfile.mkdtemp(prefix="codeintel-hyp-"))
    try:
        repo = make_git_repo(tmp / "r", BASE)
        incremental = tmp / "incremental.duckdb"
        _materialize(repo, incremental, WITH_DERIVED)
        for ops in rounds:
            commit_round(repo, ops)
            meta = _materialize(repo, incremental, WITH_DERIVED)
            assert meta["core/ast_nodes"]["mode"].value == "incremental"
            if not git(repo, "diff", "--name-only", "HEAD~1", "HEAD"):
                assert all(meta[n.replace(".", "/")]["unchanged"].value for n in DERIVED)
        _materialize(repo, tmp / "full.duckdb", WITH_DERIVED)
        assert table_differences(incremental, tmp / "full.duckdb",
                                 [*INGEST_TABLES, *DERIVED]) == {}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@settings(max_examples=int(os.environ.get("CODEINTEL_HYPOTHESIS_EXAMPLES", "3")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rounds=rounds, who=st.lists(st.sampled_from([0, 1]), min_size=3, max_size=3))
def test_fleet_two_repositories_interleaved_equal_full_rebuilds(rounds, who):
    """The fleet shape, two clones of one remote edited and materialized in turns (each run
    one partition): every partition's database equals one built from scratch, and a run of
    one partition never touches the other's file."""
    fleet = Shape("fleet")
    tmp = Path(tempfile.mkdtemp(prefix="codeintel-hyp-fleet-"))
    try:
        repos = [make_git_repo(tmp / "one" / "r", BASE), make_git_repo(tmp / "two" / "r", BASE)]
        incremental = tmp / "incremental.duckdb"
        for repo in repos:
            _materialize(repo, incremental, shape=fleet)
        for ops, i in zip(rounds, who, strict=False):
            repo, other = repos[i], repos[1 - i]
            commit_round(repo, ops)
            untouched = fleet.db_of(other, incremental).read_bytes()
            meta = _materialize(repo, incremental, shape=fleet)
            assert meta["core/ast_nodes"]["mode"].value == "incremental"
            assert fleet.db_of(other, incremental).read_bytes() == untouched
        for repo in repos:
            _materialize(repo, tmp / "full.duckdb", shape=fleet)
            assert table_differences(fleet.db_of(repo, incremental),
                                     fleet.db_of(repo, tmp / "full.duckdb"),
                                     INGEST_TABLES) == {}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
