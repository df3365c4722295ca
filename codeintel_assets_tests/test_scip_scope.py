"""The symbol index covers every Python file of the scan, whatever the target's pyright
`include` says: its file list is replaced by the scan's, its resolution settings are kept."""

from __future__ import annotations

import duckdb

from codeintel_assets import run
from codeintel_assets.tools import scip_index
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets_tests.conftest import make_git_repo, write_files

FILES = {
    # The target's config narrows pyright to `pkg` and excludes `examples`; `extraPaths`
    # (a resolution setting) must still apply: `helpers` is only importable through it.
    "pyproject.toml": '[project]\nname = "narrow"\n\n[tool.pyright]\ninclude = ["pkg"]\n'
                      'exclude = ["examples"]\nextraPaths = ["support"]\n',
    "pkg/__init__.py": "",
    "pkg/core.py": "def compute(x: int) -> int:\n    return x * 2\n",
    "support/helpers.py": "def helper() -> int:\n    return 1\n",
    "tests/test_core.py": "from pkg.core import compute\nfrom helpers import helper\n\n\n"
                          "class TestCompute:\n    def test_double(self) -> None:\n"
                          "        assert compute(helper()) == 2\n",
    "examples/demo.py": "from pkg.core import compute\n\n\ndef main() -> None:\n"
                        "    print(compute(3))\n",
    # pyright's default excludes (`**/.*`) must not come back for a scanned hidden folder
    ".ci/release.py": "def release() -> None:\n    pass\n",
    # Code for another platform (rich's _win32_console.py): with a config file pyright would
    # assume this machine's platform and find everything after the `raise` unreachable.
    "pkg/_win.py": "import sys\n\nif sys.platform == 'win32':\n    pass\nelse:\n"
                   "    raise ImportError('Windows only')\n\n\nclass Console:\n"
                   "    def write(self) -> None:\n        pass\n",
}
SELECTION = ("core/file_state,core/ast_nodes,core/cst_nodes,core/goids,core/scip_occurrences,"
             "core/goid_crosswalk")


def test_pyright_include_does_not_narrow_the_symbol_index(tmp_path):
    root = make_git_repo(tmp_path / "repo", FILES)
    db = tmp_path / "s.duckdb"
    result = run.materialize(SELECTION, target=str(root), db=str(db), tools=["scip"])
    assert result.success
    with duckdb.connect(str(db), read_only=True) as con:
        defined = set(con.execute(
            "SELECT g.rel_path || ':' || g.qualname FROM core.goid_crosswalk x "
            "JOIN core.goids g USING (goid) WHERE x.scip_symbol IS NOT NULL").fetchall())
        # the test's call to `helper` resolves through the kept extraPaths
        helper_refs = con.execute(
            "SELECT count(*) FROM core.scip_occurrences WHERE rel_path = 'tests/test_core.py' "
            "AND symbol LIKE '%helpers/helper().' AND NOT is_definition").fetchone()[0]
    assert {d for (d,) in defined} >= {
        "tests/test_core.py:test_core.TestCompute",
        "tests/test_core.py:test_core.TestCompute.test_double",
        "examples/demo.py:demo.main", "pkg/core.py:pkg.core.compute",
        "support/helpers.py:helpers.helper", ".ci/release.py:release.release",
        "pkg/_win.py:pkg._win.Console", "pkg/_win.py:pkg._win.Console.write"}
    assert helper_refs >= 1
    [check] = [e.event_specific_data for e in result.all_events
               if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and e.event_specific_data.asset_check_key.name == "goids_have_scip_symbols"]
    assert check.passed and check.metadata["share"].value == 1.0


def test_no_files_index_nothing(tmp_path):
    """An empty file list is no file, not pyright's default of the whole root (here a
    virtualenv pyright would not auto-exclude once `exclude` is set)."""
    root = make_git_repo(tmp_path / "repo", {"README.md": "hi\n"})
    write_files(root, {".venv/pyvenv.cfg": "", ".venv/lib/site.py": "x = 1\n"})
    result = scip_index.run_index(ToolRunner(), str(root), str(tmp_path / "index.scip"), "demo",
                                  "1.0", 300, files=[])
    assert result.document_count == 0
