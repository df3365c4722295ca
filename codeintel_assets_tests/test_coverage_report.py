"""analytics.coverage_lines equals coverage.py's own report of the same suite (issue 28).

The reference is independent of our code: the target's suite run by hand, `python -m coverage
run -m pytest` then `python -m coverage json`, in a copy of the checkout, with the target's own
coverage configuration. The warehouse's rows come from its shared test run (pytest-cov with our
own run configuration) read under the target's settings: the same files (the never-imported
modules under `source` included, `omit` left out), the same statements (docstrings,
`@overload` signatures, `exclude_also`), the same executed lines, and no line covered that is
not a statement.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from codeintel_assets import run
from codeintel_assets_tests.conftest import make_git_repo, rows
from codeintel_assets_tests.test_testrun_trust import test_steps

PKG = '''\
"""Package doc: not a statement."""
from typing import overload


class Shape:
    """Class doc."""

    sides = 0

    def __repr__(self):
        return "Shape()"

    def area(self):
        """Method doc."""
        return 0


@overload
def scale(x: int) -> int: ...
@overload
def scale(x: str) -> str: ...
def scale(x):
    if x == "never":
        return x
    return x * 2
'''

FILES = {
    "pyproject.toml": '[project]\nname = "covdemo"\n'
                      '[tool.coverage.run]\nsource = ["src/covdemo"]\nomit = ["*/generated.py"]\n'
                      '[tool.coverage.report]\nexclude_also = ["def __repr__"]\n'
                      '[tool.pytest.ini_options]\npythonpath = ["src"]\n',
    "src/covdemo/__init__.py": PKG,
    "src/covdemo/never_imported.py": '"""Nobody imports me."""\nVALUE = 1\n\n\n'
                                     'def unused():\n    return VALUE\n',
    "src/covdemo/generated.py": "X = 1\n",
    "src/covdemo/sub/__init__.py": "",
    "src/covdemo/sub/deep.py": "def deep():\n    return 3\n",
    "tests/test_demo.py": "from covdemo import Shape, scale\nimport covdemo.generated\n\n\n"
                          "def test_area():\n    assert Shape().area() == 0\n\n\n"
                          "def test_scale():\n    assert scale(2) == 4\n",
}


def by_hand(repo: Path, tmp: Path) -> tuple[dict[str, tuple[list[int], list[int]]], dict]:
    """({rel_path: (statements, executed lines)}, totals) of coverage.py's JSON report of the
    suite run by hand in a copy of the checkout, under the checkout's own configuration."""
    copy = tmp / "by_hand"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git", ".codeintel"))
    subprocess.run([sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p",
                    "no:cacheprovider", "-p", "no:xdist"], cwd=copy, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", "cov.json"],
                   cwd=copy, check=True)
    report = json.loads((copy / "cov.json").read_text())
    return {rel: (sorted(f["executed_lines"] + f["missing_lines"]), sorted(f["executed_lines"]))
            for rel, f in report["files"].items()}, report["totals"]


def test_coverage_lines_equal_coverage_json_of_the_same_suite(tmp_path):
    repo = make_git_repo(tmp_path / "covdemo", FILES)
    test_steps(repo, tools=["tests"])
    ours: dict[str, tuple[list[int], list[int]]] = {}
    for rel, line, executable, covered in rows(
            repo / ".codeintel" / "codeintel.duckdb",
            "SELECT rel_path, line, is_executable, is_covered FROM analytics.coverage_lines "
            "ORDER BY rel_path, line"):
        statements, executed = ours.setdefault(rel, ([], []))
        assert executable or not covered, (rel, line)  # covered implies a statement
        if executable:
            statements.append(line)
        if covered:
            executed.append(line)
    reference, totals = by_hand(repo, tmp_path)
    assert set(reference) == {"src/covdemo/__init__.py", "src/covdemo/never_imported.py",
                              "src/covdemo/sub/__init__.py", "src/covdemo/sub/deep.py"}
    assert {rel: v for rel, v in ours.items() if v[0]} == \
        {rel: v for rel, v in reference.items() if v[0]}
    assert ours["src/covdemo/never_imported.py"] == ([2, 5, 6], [])
    # The summary's total is coverage.py's (`coverage report` prints the same numbers).
    line = run.summary(target=str(repo))["line_coverage"]
    assert (line["statements"], line["covered"], line["files"]) == \
        (totals["num_statements"], totals["covered_lines"],
         sum(bool(statements) for statements, _ in reference.values()))  # empty files: no rows
    assert line["percent"] == round(totals["percent_covered"], 2)
