"""The one ast pass (extract/python_pass.py): the rows of every ast table from one parse
equal those of the modules' own extractors, for the whole pass and for any subset of tables,
and built from repo_scan's parse (scan.scan_file) without a second one; and the parse-floor
ratios of benchmark_parse."""

from __future__ import annotations

import ast
import textwrap
from unittest import mock

import pytest

from codeintel_assets.benchmark_parse import CPU_FLOORS, step_floor_ratios
from codeintel_assets.extract import python_pass
from codeintel_assets.extract.config_references import string_literals
from codeintel_assets.extract.docstrings import extract_docstrings
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.python_ast import extract_ast
from codeintel_assets.extract.scan import PASS_FILES, scan_file

SOURCE = textwrap.dedent('''\
    """Module doc.

    Args:
        none: nothing
    """
    import os
    from typing import overload

    HOST = "database.host"
    BLANK = "   "
    QUERY = f"select {HOST} from t"


    class A:
        """Class doc."""

        @overload
        def m(self, x: int) -> int: ...
        def m(self, x):
            """Method doc.

            Returns:
                int: x
            """
            return [i for i in x if i] or os.path.join("a", "bc")


    def f():
        return lambda y: y
    ''')


@pytest.fixture
def job(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(SOURCE, encoding="utf-8")
    return FileJob("acme/w", "c0ffee", "pkg/m.py", str(path), "pkg.m")


def test_one_pass_equals_the_separate_extractors(job):
    expected = {**extract_ast(job), **extract_docstrings(job), **string_literals(job)}
    assert set(expected) == set(python_pass.TABLES)
    assert python_pass.extract_python(job) == expected
    assert {r["literal"] for r in expected["core.string_literals"]} >= {"database.host", "bc"}
    assert len(expected["core.docstrings"]) == 3


@pytest.mark.parametrize("tables", [("core.docstrings",), ("core.string_literals",),
                                    ("core.imports", "core.docstrings"),
                                    ("core.string_literals", "core.docstrings")])
def test_a_subset_builds_only_its_tables_from_one_parse(job, tables):
    expected = {**extract_ast(job), **extract_docstrings(job), **string_literals(job)}
    with mock.patch.object(python_pass.ast, "parse", wraps=ast.parse) as parse:
        out = python_pass.python_extractor(tables)(job)
    assert parse.call_count == 1
    assert out == {t: expected[t] for t in tables}


def test_the_scan_builds_the_pass_from_its_own_parse(job, tmp_path):
    expected = python_pass.extract_python(job, ("core.ast_nodes", "core.docstrings"))
    with mock.patch.object(python_pass.ast, "parse", wraps=ast.parse) as parse:
        out = scan_file(job, python_tables=("core.ast_nodes", "core.docstrings"))
    assert parse.call_count == 1  # the scan's own: the pass does not parse again
    assert out.pop("core.file_state")[0]["parse_status"] == "ok"
    assert out == {**expected, PASS_FILES: [{"rel_path": "pkg/m.py"}]}
    # A file that does not parse has its scan row only; without tables, no pass at all.
    (tmp_path / "bad.py").write_text("def f(:\n", encoding="utf-8")
    bad = FileJob("acme/w", "c0ffee", "bad.py", str(tmp_path / "bad.py"), "bad")
    out = scan_file(bad, python_tables=("core.ast_nodes",))
    assert list(out) == ["core.file_state"]
    assert out["core.file_state"][0]["parse_status"] == "syntax_error"
    assert list(scan_file(job)) == ["core.file_state"]


def test_step_floor_ratios():
    floor = {"ast_parse_s_all_cores": 2.0, "libcst_parse_s_all_cores": 10.0}
    out = step_floor_ratios({"repo_scan": 1.0, "ast_extract": 4.0, "cst_extract": 25.0,
                             "goids": 9.0}, floor)
    assert out["ast_steps"] == {"repo_scan": 1.0, "ast_extract": 4.0}
    assert (out["ast_steps_s"], out["ast_ratio"], out["cst_ratio"]) == (5.0, 2.5, 2.5)
    empty = step_floor_ratios({}, {"ast_parse_s_all_cores": 0, "libcst_parse_s_all_cores": 0})
    assert empty["ast_ratio"] is None and empty["cst_ratio"] is None
    cpu = step_floor_ratios({"repo_scan": 3.0, "cst_extract": 8.0},
                            {"ast_parse_cpu_s": 1.0, "libcst_parse_cpu_s": 4.0}, CPU_FLOORS)
    assert (cpu["ast_ratio"], cpu["cst_ratio"]) == (3.0, 2.0)
