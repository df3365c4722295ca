"""Vendored code (issue 29): detected and tagged in core.file_state, kept in every table, left out
of the summary's rankings unless asked, and linted or type-checked only as the target's own
configuration says (a nested ruff.toml, [tool.pyright] exclude, [tool.pyrefly]
project-excludes). One real Git repository, one run of the three static tools."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

from codeintel_assets import cli, run
from codeintel_assets.extract.vendored import vendored_files
from codeintel_assets_tests.conftest import make_git_repo, rows


def tangled(name: str, depth: int) -> str:
    """A function whose complexity grows with `depth` (nested ifs in a loop), with a type error
    (`x: int = "s"`) on its second line."""
    body = [f"def {name}(items):", '    x: int = "s"', "    total = 0", "    for i in items:"]
    for d in range(depth):
        body.append("    " * (d + 2) + f"if i > {d} and i % {d + 2}:")
    body.append("    " * (depth + 2) + "total += i")
    body.append("    return total, x")
    return "\n".join(body) + "\n"


FILES = {
    "pyproject.toml": '[project]\nname = "pkg"\nversion = "0"\n\n'
                      '[tool.pyright]\nexclude = ["third_party"]\n\n'
                      '[tool.pyrefly]\nproject-excludes = ["third_party/**"]\n',
    "pkg/__init__.py": "",
    "pkg/core.py": "import os\n\n\n" + tangled("own", 3),
    # setuptools' case: the folder's own ruff.toml excludes it.
    "pkg/_vendor/ruff.toml": 'exclude = ["*"]\n',
    "pkg/_vendor/lib/__init__.py": "import os\n\n\n" + tangled("vendored_lib", 8),
    "third_party/tp/mod.py": "import os\n\n\n" + tangled("third", 7),
    "ext/vendor.txt": "blob==1.0  # pinned\n",
    "ext/blob.py": tangled("blob", 6),
    "vendor.txt": "shim==2.0\n",  # beside the folder it names
    "shim/__init__.py": tangled("shim", 5),
    "libs/attrs_lite-1.0.dist-info/METADATA": "Name: attrs-lite\n",
    "libs/attrs_lite-1.0.dist-info/top_level.txt": "attrs_lite\n",
    "libs/attrs_lite/__init__.py": tangled("lite", 4),
    "libs/helper.py": tangled("helper", 2),
}
VENDORED = {
    "pkg/_vendor/ruff.toml": "folder named _vendor: pkg/_vendor/",
    "pkg/_vendor/lib/__init__.py": "folder named _vendor: pkg/_vendor/",
    "third_party/tp/mod.py": "folder named third_party: third_party/",
    "ext/blob.py": "vendor.txt in the folder: ext/",
    "shim/__init__.py": "named in vendor.txt: shim/",
    "libs/attrs_lite/__init__.py": "installed package (attrs_lite-1.0.dist-info): libs/attrs_lite/",
}


def test_the_rule_names_each_sign(tmp_path):
    repo = make_git_repo(tmp_path / "repo", {
        **FILES, "inner/ruff.toml": 'exclude = ["*.py"]\n', "inner/a.py": "",
        "half/ruff.toml": 'exclude = ["data/"]\n', "half/data/x.py": "", "half/own.py": "",
        "dist/pyrightconfig.json": '{"exclude": ["**"]}', "dist/b.py": "",
        "sub/pyproject.toml": '[tool.ruff.lint]\nexclude = ["*"]\n', "sub/c.py": ""})
    scanned = [p for p in FILES if not p.endswith((".txt", "METADATA"))]
    extra = ["inner/ruff.toml", "inner/a.py", "half/ruff.toml", "half/data/x.py",
             "half/own.py", "dist/pyrightconfig.json", "dist/b.py", "sub/pyproject.toml",
             "sub/c.py"]
    assert vendored_files(repo, scanned + extra) == {
        **VENDORED, "inner/ruff.toml": "ruff.toml excludes its folder: inner/",
        "inner/a.py": "ruff.toml excludes its folder: inner/",
        "dist/pyrightconfig.json": "pyrightconfig.json excludes its folder: dist/",
        "dist/b.py": "pyrightconfig.json excludes its folder: dist/",
        "sub/pyproject.toml": "pyproject.toml excludes its folder: sub/",
        "sub/c.py": "pyproject.toml excludes its folder: sub/"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("vendored")
    repo = make_git_repo(tmp / "repo", FILES)
    db = tmp / "db.duckdb"
    result = run.materialize("*docs/v_function_summary,*docs/v_file_summary", target=str(repo),
                             db=str(db), tools=["ruff", "pyright", "pyrefly"],
                             console_log=False)
    assert result.success
    return repo, db


def summary(repo: Path, db: Path, *flags: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["summary", "--target", str(repo), "--db", str(db), *flags]) == 0
    return out.getvalue()


def test_files_are_tagged_with_their_reason(built):
    _, db = built
    tagged = dict(rows(db, "SELECT rel_path, vendored_reason FROM core.file_state "
                           "WHERE is_vendored"))
    assert tagged == VENDORED
    assert rows(db, "SELECT count(*) FROM core.file_state WHERE is_vendored IS NULL") == [(0,)]
    # Indexed all the same: every vendored Python file has its functions and risk rows.
    assert {r[0] for r in rows(db, "SELECT rel_path FROM docs.v_function_summary "
                                   "WHERE is_vendored")} == \
        {p for p in VENDORED if p.endswith(".py")}
    assert rows(db, "SELECT rel_path FROM docs.v_file_summary WHERE is_vendored "
                    "AND vendored_reason IS NOT NULL ORDER BY 1") == \
        [(p,) for p in sorted(VENDORED)]


def test_lint_and_type_rows_follow_the_targets_excludes(built):
    _, db = built
    by_tool = rows(db, "SELECT tool, list(DISTINCT rel_path ORDER BY rel_path) "
                       "FROM analytics.diagnostics GROUP BY tool ORDER BY tool")
    found = {tool: set(paths) for tool, paths in by_tool}
    # ruff: the nested ruff.toml's `exclude` (as `ruff check` at the root); third_party/ is
    # linted, no ruff config excludes it.
    assert "pkg/_vendor/lib/__init__.py" not in found["ruff"]
    assert {"pkg/core.py", "third_party/tp/mod.py"} <= found["ruff"]
    # pyright and pyrefly: the root configuration's exclude / project-excludes; neither reads
    # the nested ruff.toml, so pkg/_vendor's type errors are kept (and tagged vendored).
    for tool in ("pyright", "pyrefly"):
        assert "third_party/tp/mod.py" not in found[tool], tool
        assert {"pkg/core.py", "pkg/_vendor/lib/__init__.py"} <= found[tool], tool


def test_summary_leaves_vendored_code_out_unless_asked(built):
    repo, db = built
    out = summary(repo, db)
    ranked = out.split("ten most complex files")[1]
    assert "pkg/core.py" in ranked and "libs/helper.py" in ranked
    assert not [p for p in VENDORED if p in ranked], ranked
    functions = rows(db, "SELECT count(*) FROM docs.v_function_summary WHERE is_vendored")[0][0]
    assert functions == 5
    diagnostics = rows(db, "SELECT count(*) FROM analytics.diagnostics d JOIN core.file_state f "
                           "USING (repo, rel_path) WHERE f.is_vendored")[0][0]
    assert diagnostics > 0
    assert (f"vendored code left out of the rankings: 5 Python files, 5 functions, "
            f"{diagnostics} diagnostics") in out
    with_flag = summary(repo, db, "--include-vendored")
    listed = with_flag.split("ten riskiest functions")[1].split("\n\n")[0]  # to the next part
    risky = [line.split("(")[1].split(":")[0] for line in listed.splitlines()[1:]]
    # The vendored functions are the most tangled: they rank first once vendored code counts.
    assert set(risky[:5]) == {p for p in VENDORED if p.endswith(".py")}
    assert risky[5:] == ["pkg/core.py", "libs/helper.py"]
    assert "pkg/_vendor/lib/__init__.py" in with_flag.split("ten most complex files")[1]
    assert "left out" not in with_flag


def test_pyrefly_checks_nothing_when_the_config_excludes_every_file(tmp_path):
    """Files named on pyrefly's command line ignore the config's project-excludes, and a run of
    excluded files only fails: dump-config's covered files decide what is checked."""
    from codeintel_assets.tools import pyrefly
    from codeintel_assets.tools.runner import ToolRunner

    make_git_repo(tmp_path, {"pyrefly.toml": 'project-excludes = ["gen"]\n',
                             "gen/a.py": 'x: int = "s"\n', "gen/b.py": 'y: int = "s"\n'})
    found = pyrefly.run(ToolRunner(), str(tmp_path), ["gen/a.py", "gen/b.py"],
                        executable=str(Path(sys.executable).parent / "pyrefly"))
    assert (found.rows, found.excluded) == ([], 2)
    (tmp_path / "pyrefly.toml").write_text('project-excludes = ["gen/b.py"]\n')
    found = pyrefly.run(ToolRunner(), str(tmp_path), ["gen/a.py", "gen/b.py"],
                        executable=str(Path(sys.executable).parent / "pyrefly"))
    assert ({r["rel_path"] for r in found.rows}, found.excluded) == ({"gen/a.py"}, 1)
