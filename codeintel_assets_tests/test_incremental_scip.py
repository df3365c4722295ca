"""Incremental SCIP (storage/scip_update.py, tools/scip_merge.py): after a push scip-python
indexes the changed files and their reverse import closure, the index keeps the other
documents, and the tables built on it equal a full rebuild row for row; a crash keeps the
documents emitted before it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, example, given, settings

from codeintel_assets.storage import scip_update
from codeintel_assets.storage.compare import VOLATILE_COLUMNS, table_differences
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets.tools import scip_config, scip_pb2
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets.tools.scip_decode import decode
from codeintel_assets.tools.scip_merge import canonical, merge, read_streamed
from codeintel_assets_tests.conftest import SHAPES, git, make_git_repo, write_files
from codeintel_assets_tests.test_incremental import PY_CONTENTS, commit_round
from codeintel_assets_tests.test_incremental_diagnostics import (
    BASE,
    TYPING_CONTENTS,
    edit_rounds,
)
from codeintel_assets_tests.test_scip import (  # noqa: F401 (scip_python: a fixture)
    CRASH,
    PYPROJECT,
    _index,
    scip_python,
)

SELECT = "*graph/call_graph_edges,*graph/symbol_use_edges"
SCIP_TABLES = ("core.scip_symbols", "core.scip_occurrences", "core.goid_crosswalk",
               "graph.symbol_use_edges", "graph.call_graph_edges")
# scip-python writes an external symbol's documentation from the hover at the first reference
# it visits, which depends on the files a run indexed (tools/scip_merge.py): the one column
# allowed to differ, and only on external symbols (`_in_repo_documentation` checks the rest).
IGNORE = {**VOLATILE_COLUMNS, "core.scip_symbols": ("documentation",)}

# ---- merging and salvaging indexes -------------------------------------------------------------


def _doc(path: str, symbol: str, ref: str) -> scip_pb2.Document:
    doc = scip_pb2.Document(relative_path=path)
    doc.symbols.add(symbol=symbol)
    doc.occurrences.add(symbol=symbol, range=[0, 4, 5], symbol_roles=1)
    doc.occurrences.add(symbol=ref, range=[1, 0, 3])
    return doc


def test_read_streamed_keeps_the_complete_documents_of_a_cut_index(tmp_path):
    index = scip_pb2.Index()
    index.metadata.tool_info.version = "0.6.6"
    index.documents.extend([_doc("a.py", "p a/f().", "ext os/"), _doc("b.py", "p b/g().", "p a/f().")])
    data = index.SerializeToString()
    path = tmp_path / "x.scip"
    path.write_bytes(data)
    assert read_streamed(path) == (index, True)
    path.write_bytes(data[:-3])  # cut inside b.py's document, as a crash leaves it
    got, complete = read_streamed(path)
    assert not complete and [d.relative_path for d in got.documents] == ["a.py"]
    assert got.metadata.tool_info.version == "0.6.6"
    path.write_bytes(b"")
    assert read_streamed(path) == (scip_pb2.Index(), True)


def test_merge_replaces_documents_and_keeps_referenced_external_symbols():
    old = scip_pb2.Index(documents=[_doc("b.py", "p b/g().", "ext os/"),
                                    _doc("a.py", "p a/f().", "ext sys/")])
    old.external_symbols.add(symbol="ext os/", documentation=["old hover"])
    old.external_symbols.add(symbol="ext sys/")
    new = scip_pb2.Index(documents=[_doc("a.py", "p a/f().", "ext re/"),
                                    _doc("c.py", "p c/h().", "p a/f().")])
    new.external_symbols.add(symbol="ext re/")
    new.external_symbols.add(symbol="ext os/", documentation=["new hover"])
    new.external_symbols.add(symbol="p c/h().")  # declared by a document: not external
    merged = merge(old, lambda p: p != "a.py", [new], lambda p: p == "a.py")
    # c.py was emitted (a.py imports it, say) but not asked for: the kept documents stand.
    assert [d.relative_path for d in merged.documents] == ["a.py", "b.py"]
    assert merged.documents[0] == new.documents[0]
    # sys/ is no longer named; os/ keeps the entry the index had.
    assert [(s.symbol, list(s.documentation)) for s in merged.external_symbols] == \
        [("ext os/", ["old hover"]), ("ext re/", [])]
    assert canonical(merged) == merged


class ConfigRecordingRunner(ToolRunner):
    """Records the include list each scip-python attempt was served."""

    def __init__(self) -> None:
        super().__init__()
        self.includes: list[list[str]] = []

    def run(self, argv, **kw):
        source = (kw.get("env") or {}).get(scip_config.SOURCE_VAR)
        self.includes.append(json.loads(Path(source).read_text())["include"] if source else [])
        return super().run(argv, **kw)


def test_a_crash_indexes_only_the_files_not_yet_emitted(scip_python, tmp_path):  # noqa: F811
    """scip-python crashes on use.py (test_scip.CRASH) after emitting aa.py, choices.py and
    ok.py: the retry indexes zz.py alone, and the index holds what a run on the tree without
    use.py holds."""
    files = {**CRASH, "aa.py": "X = 1\n", "zz.py": "import ok\n\nY = ok.fine()\n"}
    root = make_git_repo(tmp_path / "repo", {**files, "pyproject.toml": PYPROJECT})
    runner = ConfigRecordingRunner()
    result = _index(root, tmp_path / "salvaged.scip", runner=runner, files=sorted(files))
    assert (result.excluded_files, result.attempts, result.salvaged_documents) == \
        (("use.py",), 2, 3)
    assert runner.includes == [sorted(files), ["zz.py"]]
    (root / "use.py").unlink()
    plain = _index(root, tmp_path / "plain.scip", files=sorted(set(files) - {"use.py"}))
    got, want = decode(result.output, str(root)), decode(plain.output, str(root))
    assert got[1] == want[1] and len(got[1]) > 10  # occurrences
    in_repo = [[s for s in rows if s["def_rel_path"]] for rows in (got[0], want[0])]
    assert in_repo[0] == in_repo[1] and in_repo[0]


# ---- the pipeline ----------------------------------------------------------------------------


def _materialize(repo: Path, db: Path) -> dict:
    result = SHAPES[0].materialize(SELECT, repo, db, tools=["scip"], full_rebuild_share=1.0)
    assert result.success
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    out = {k: getattr(v, "value", v) for k, v in meta["core/scip_occurrences"].items()}
    unchanged = meta["core/scip_symbols"].get("unchanged")
    return {**out, "symbols_unchanged": getattr(unchanged, "value", unchanged)}


def _in_repo_documentation(db: Path) -> list[tuple]:
    return StorageGateway(db).query(
        "SELECT symbol, document, documentation FROM core.scip_symbols "
        "WHERE def_rel_path IS NOT NULL OR is_local ORDER BY ALL").to_pylist()


def _assert_equal_to_full(repo: Path, incremental: Path, full: Path) -> None:
    _materialize(repo, full)
    assert table_differences(incremental, full, SCIP_TABLES, IGNORE) == {}
    assert _in_repo_documentation(incremental) == _in_repo_documentation(full)


def test_a_push_indexes_the_changed_files_and_their_importers(scip_python, tmp_path):  # noqa: F811
    repo = make_git_repo(tmp_path / "r", BASE)
    db = tmp_path / "inc.duckdb"
    first = _materialize(repo, db)
    assert (first["scip_update"], first["files_indexed"]) == ("full", 7)
    again = _materialize(repo, db)
    assert (again["scip_update"], again["reason"], again["files_indexed"]) == \
        ("incremental", "no Python file changed", 0)
    # Nothing indexed: core.scip_symbols stands (not decoded again), as a derived step's does.
    assert (first["symbols_unchanged"], again["symbols_unchanged"]) == (False, True)
    # pkg/a.py is read by pkg/__init__.py, pkg/sub/b.py and (through b) app.py; leaf.py,
    # src/c.py and tools/d.py keep their documents. tools/d.py is deleted: nobody imports it.
    write_files(repo, {"pkg/a.py": "def f(x: int) -> str:\n    return str(x)\n"})
    (repo / "tools" / "d.py").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "edit a, delete d")
    with mock.patch.object(scip_update, "CLOSURE_FULL_SHARE", 0.9):
        meta = _materialize(repo, db)
    assert (meta["scip_update"], meta["files_indexed"], meta["files"]) == \
        ("incremental", 4, ["app.py", "pkg/__init__.py", "pkg/a.py", "pkg/sub/b.py"])
    assert meta["reason"] == "closure 4 files of 6 (1 changed, 1 deleted)"
    # (That the rows equal a full index's is the property below.)
    # The default bound (30%) makes a closure of 4 files of 6 a full index.
    write_files(repo, {"pkg/a.py": BASE["pkg/a.py"]})
    git(repo, "commit", "-qam", "revert a")
    assert _materialize(repo, db)["reason"] == "full: closure 67% > 30%"


# Cross-file dependencies (calls of pkg.a.f, a package attribute, relative, `src/` and
# namespace-package imports) and classes with methods, so edits change documents they leave
# alone; a syntax error and undecodable bytes drop files from the index.
# A class hierarchy across files (a base in pkg/a.py, a subclass elsewhere overriding its
# method or not) makes edits change the call graph's dispatch edges in files they leave alone.
HIERARCHY = [
    "class Base:\n    def run(self):\n        return self.step()\n\n"
    "    def step(self):\n        return 0\n",
    "from pkg.a import Base\n\n\nclass Sub(Base):\n    def step(self):\n        return 1\n\n\n"
    "Sub().run()\n",
    "from pkg.a import Base\n\n\nclass Sub(Base):\n    pass\n\n\nSub().run()\n",
]
CONTENTS = [*TYPING_CONTENTS, PY_CONTENTS[1], PY_CONTENTS[2], *HIERARCHY]
rounds = edit_rounds(CONTENTS)


@settings(max_examples=int(os.environ.get("CODEINTEL_HYPOTHESIS_EXAMPLES", "2")),
          deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds=rounds)
# pkg/a.py undecodable leaves the scan, and pkg/sub/b.py still imports it: scip-python emits
# its document anyway, which neither a full index nor an update may keep (found by this test).
@example(rounds=[[("write", "pkg/a.py", PY_CONTENTS[5])]])
def test_incremental_scip_equals_full_rebuild(scip_python, rounds):  # noqa: F811
    """Random edit sequences: the SCIP tables and those built on them, updated after every
    round (the closure indexed, whatever its size), equal those of a full index of the final
    tree, but for external symbols' documentation (IGNORE)."""
    tmp = Path(tempfile.mkdtemp(prefix="codeintel-hyp-scip-"))
    started = time.monotonic()
    try:
        repo = make_git_repo(tmp / "r", BASE)
        incremental = tmp / "incremental.duckdb"
        with mock.patch.object(scip_update, "CLOSURE_FULL_SHARE", 1.0):
            _materialize(repo, incremental)
            for ops in rounds:
                commit_round(repo, ops)
                assert _materialize(repo, incremental)["scip_update"] == "incremental"
        _assert_equal_to_full(repo, incremental, tmp / "full.duckdb")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"example: {len(rounds)} rounds in {time.monotonic() - started:.1f}s")
