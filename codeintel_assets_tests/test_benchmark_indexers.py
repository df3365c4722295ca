"""benchmark_indexers (issue 19): pyrefly's Glean facts land on the positions core.scip_occurrences
uses, and the comparison counts what differs. Real pyrefly on a package made in a temp dir
(about 1 s); no scip-python run (the benchmark itself measures that)."""

from __future__ import annotations

from pathlib import Path

from codeintel_assets.benchmark_indexers import (
    python_files,
    read_time_report,
    run_pyrefly,
)
from codeintel_assets.benchmark_indexers_compare import (
    UNRESOLVED,
    Index,
    compare,
    crosswalk_rate,
    glean_positions,
    name_consistency,
    syntax_of,
)

B = "class Foo:\n    pass\n\n\ndef helper(v):\n    return v\n"
# A non-ASCII class and method name: Glean spans are UTF-8 byte offsets, as our columns are.
U = 'x = "é"\nclass Ünï:\n    def ñ(self):\n        return helper(1)\n'
A = ("from pkg.b import Foo, helper\nfrom pkg.u import Ünï\n\n\n"
     "class Bar(Foo):\n    @property\n    def p(self):\n        return helper(Ünï().ñ())\n\n\n"
     "class Baz(Bar):\n    pass\n\n\ndef use():\n    return Baz().p\n")


def _package(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "b.py").write_text(B)
    (root / "pkg" / "u.py").write_text("from pkg.b import helper\n" + U, encoding="utf-8")
    (root / "pkg" / "a.py").write_text(A, encoding="utf-8")
    return root


def test_glean_facts_become_positions_and_time_is_measured(tmp_path):
    root = _package(tmp_path)
    files = python_files(root)
    work = tmp_path / "work"
    work.mkdir()
    measured, glean_dir = run_pyrefly(root, files, work, 120)
    assert measured.error is None and measured.attempts == 1
    assert measured.peak_rss_mb > 0 and measured.wall_s > 0
    index = glean_positions(glean_dir, root, set(files))

    # Definitions at the name token, byte columns: `class Ünï` -> col 6, `def ñ` -> col 8,
    # a decorated method at its `def` line, modules at 1:0 (SCIP's place for them).
    assert index.defs[("pkg/u.py", 3, 6)] == "pkg.u.Ünï"
    assert index.defs[("pkg/u.py", 4, 8)] == "pkg.u.Ünï.ñ"
    assert index.defs[("pkg/a.py", 7, 8)] == "pkg.a.Bar.p"
    assert index.defs[("pkg/b.py", 1, 0)] == "pkg.b"
    # References point at the definition site; `Ünï().ñ` after a two-byte character.
    call = A.splitlines()[7]
    col = len(call[: call.index("ñ")].encode())
    assert index.refs[("pkg/a.py", 8, col)] == {("pkg/u.py", 4, 8)}
    assert index.refs[("pkg/a.py", 1, 18)] == {("pkg/b.py", 1, 6)}  # Foo in the import
    # pyrefly names `Baz().p` `pkg.a.Baz.p`; the bases lead to Bar's declaration.
    assert index.refs[("pkg/a.py", 16, 17)] == {("pkg/a.py", 7, 8)}
    assert index.inherited == 1
    assert glean_positions(glean_dir, root, set(files), inherit=False).refs[
        ("pkg/a.py", 16, 17)] == {UNRESOLVED}
    kinds, names = syntax_of(root, files)
    assert kinds[("pkg/a.py", 1, 5)] == "import-module-path"
    assert sorted(names) == [("pkg/a.py", 5, 6), ("pkg/a.py", 7, 8), ("pkg/a.py", 11, 6),
                             ("pkg/a.py", 15, 4), ("pkg/b.py", 1, 6), ("pkg/b.py", 5, 4),
                             ("pkg/u.py", 3, 6), ("pkg/u.py", 4, 8)]
    assert crosswalk_rate(index, names, scip=False) == 1.0
    consistency = name_consistency(index, root, examples=2)
    assert consistency["share"] == 1.0 and consistency["checked"] >= 6


def test_compare_counts_each_kind_of_difference(tmp_path):
    root = _package(tmp_path)
    kinds, _ = syntax_of(root, ["pkg/b.py"])
    a, b = Index(), Index()
    a.defs = {("pkg/b.py", 1, 6): "s#Foo", ("pkg/b.py", 5, 11): "local 0"}
    b.defs = {("pkg/b.py", 1, 6): "pkg.b.Foo", ("pkg/b.py", 5, 4): "pkg.b.helper"}
    for index, name in ((a, "local 0"), (b, "pkg.b.v")):
        index.refs[("pkg/b.py", 6, 11)].add(("pkg/b.py", 5, 11) if index is a else UNRESOLVED)
        index.ref_names[("pkg/b.py", 6, 11)] = name
    got = compare(a, b, kinds, root, examples=1)
    assert (got.defs_a, got.defs_b, got.defs_both) == (2, 2, 1)
    assert (got.refs_both, got.refs_same_target, got.refs_both_in_repo) == (1, 0, 0)
    assert got.categories == {"def only scip/parameter": 1, "def only other/def-name": 1,
                              "ref target differs (in-repo vs unresolved)/name-load": 1}
    assert got.examples["def only scip/parameter"][0].endswith("def helper(‸v):")


def test_time_report_parsing(tmp_path):
    report = tmp_path / "t.txt"
    report.write_text("\tUser time (seconds): 1.50\n\tSystem time (seconds): 0.25\n"
                      "\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5\n"
                      "\tMaximum resident set size (kbytes): 2048\n")
    assert read_time_report(report) == (3723.5, 1.75, 2.0)
    assert read_time_report(tmp_path / "missing.txt") == (0.0, 0.0, 0.0)
