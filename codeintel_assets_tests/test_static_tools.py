"""pyright, pyrefly and ruff: parsers on captured real output, real runs, failures, derived rows,
and the typedness extractor."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from codeintel_assets.extract.lines import LineIndex
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.python_ast import extract_ast
from codeintel_assets.extract.typedness import typedness_rows
from codeintel_assets.paths import rel_path_in_root
from codeintel_assets.tools import diagnostics, pyrefly, pyright, ruff
from codeintel_assets.tools.diagnostics import (
    CODEPOINT,
    UTF16,
    chunk_paths,
    number_occurrences,
    per_file_counts,
)
from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolRunner,
)

FIXTURES = Path(__file__).parent / "fixtures" / "tools"
SAMPLE = FIXTURES / "sample"
RECORDED_ROOT = "/tmp/codeintel_tools_fixture/sample"  # where the raw outputs were captured
FILES = ["pkg/__init__.py", "pkg/broken.py", "pkg/util.py"]
MODULES = {"pyright": pyright, "pyrefly": pyrefly, "ruff": ruff}

ASSIGN = ('Type "Literal[\'s\']" is not assignable to declared type "int"\n'
          '\xa0\xa0"Literal[\'s\']" is not assignable to "int"')
ASSIGN_EMOJI = ASSIGN.replace("'s'", "'😀é'")
RUFF_DOC = "https://docs.astral.sh/ruff/rules/"

# (rel_path, line, col, end_line, end_col, code, severity, message, rule_url) in output order.
# Line 25 is `label = "😀é"; n: int = label; print(undefined_name)`: the second `label` is at
# code point 23 / UTF-16 unit 24 / byte 27 and `undefined_name` at 36 / 37 / 40; every tool's
# column becomes the byte offset.
EXPECTED: dict[str, list[tuple]] = {
    "pyright": [
        ("pkg/__init__.py", 5, 16, 5, 30, "reportUnsupportedDunderAll", "warning",
         '"missing_name" is specified in __all__ but is not present in module', None),
        ("pkg/__init__.py", 7, 9, 7, 12, "reportAssignmentType", "error", ASSIGN, None),
        ("pkg/__init__.py", 17, 11, 17, 18, "reportOperatorIssue", "error",
         'Operator "+" not supported for types "int" and "Literal[\'1\']"', None),
        ("pkg/__init__.py", 22, 35, 22, 41, "reportAttributeAccessIssue", "error",
         ('Cannot access attribute "suffix" for class "Greeter*"\n\xa0\xa0Attribute "suffix" '
          'is unknown'), None),
        ("pkg/__init__.py", 25, 27, 25, 32, "reportAssignmentType", "error", ASSIGN_EMOJI, None),
        ("pkg/__init__.py", 25, 40, 25, 54, "reportUndefinedVariable", "error",
         '"undefined_name" is not defined', None),
        ("pkg/__init__.py", 26, 12, 26, 13, "", "information", 'Type of "n" is "int"', None),
        ("pkg/broken.py", 1, 10, 1, 11, "", "error", '"(" was not closed', None),
        ("pkg/broken.py", 1, 11, 1, 12, "", "error", "Expected parameter name", None),
        ("pkg/broken.py", 1, 11, 2, 8, "", "error",
         "Position-only parameter separator not allowed as first parameter", None),
        ("pkg/broken.py", 2, 4, 2, 8, "", "error", "Expected expression", None),
        ("pkg/broken.py", 3, 0, 3, 0, "", "error", 'Expected ":"', None),
        ("pkg/broken.py", 3, 0, 3, 0, "", "error", "Expected expression", None),
        ("pkg/broken.py", 3, 0, 3, 0, "", "error",
         "Statements must be separated by newlines or semicolons", None),
        ("pkg/util.py", 6, 11, 6, 14, "reportReturnType", "error",
         ('Type "str" is not assignable to return type "bytes"\n\xa0\xa0"str" is not '
          'assignable to "bytes"'), None),
    ],
    "pyrefly": [
        ("pkg/broken.py", 1, 11, 1, 12, "parse-error", "error",
         "Parse error: Expected a parameter or the end of the parameter list", None),
        ("pkg/broken.py", 1, 12, 2, 0, "parse-error", "error",
         "Parse error: Expected `)`, found newline", None),
        ("pkg/__init__.py", 5, 16, 5, 30, "bad-dunder-all", "error",
         "Name `missing_name` is listed in `__all__` but is not defined in the module", None),
        ("pkg/__init__.py", 7, 9, 7, 12, "bad-assignment", "error",
         "`Literal['s']` is not assignable to `int`", None),
        ("pkg/__init__.py", 8, 8, 8, 16, "redundant-cast", "warning",
         "Redundant cast: `int` is the same type as `int`", None),
        ("pkg/__init__.py", 17, 11, 17, 18, "unsupported-operation", "error",
         ("`+` is not supported between `int` and `Literal['1']`\n  Argument `Literal['1']` is "
          "not assignable to parameter `value` with type `int` in function `int.__add__`"), None),
        ("pkg/__init__.py", 22, 30, 22, 41, "missing-attribute", "error",
         "Object of class `Greeter` has no attribute `suffix`", None),
        ("pkg/__init__.py", 25, 27, 25, 32, "bad-assignment", "error",
         "`Literal['😀é']` is not assignable to `int`", None),
        ("pkg/__init__.py", 25, 40, 25, 54, "unknown-name", "error",
         "Could not find name `undefined_name`", None),
        ("pkg/__init__.py", 26, 0, 26, 11, "unimported-directive", "error",
         "`reveal_type` must be imported from `typing` for runtime usage", None),
        ("pkg/__init__.py", 26, 11, 26, 14, "reveal-type", "information", "revealed type: int",
         None),
        ("pkg/util.py", 6, 11, 6, 14, "bad-return", "error",
         "Returned type `str` is not assignable to declared return type `bytes`", None),
    ],
    "ruff": [
        ("pkg/__init__.py", 2, 7, 2, 9, "F401", "error", "`os` imported but unused",
         RUFF_DOC + "unused-import"),
        ("pkg/__init__.py", 3, 0, 3, 33, "UP035", "error",
         "Import from `collections.abc` instead: `Callable`", RUFF_DOC + "deprecated-import"),
        ("pkg/__init__.py", 5, 10, 5, 31, "RUF022", "error", "`__all__` is not sorted",
         RUFF_DOC + "unsorted-dunder-all"),
        ("pkg/__init__.py", 25, 40, 25, 54, "F821", "error", "Undefined name `undefined_name`",
         RUFF_DOC + "undefined-name"),
        ("pkg/__init__.py", 26, 0, 26, 11, "F821", "error", "Undefined name `reveal_type`",
         RUFF_DOC + "undefined-name"),
        ("pkg/broken.py", 1, 11, 1, 12, "invalid-syntax", "error",
         "Expected a parameter or the end of the parameter list", None),
        ("pkg/broken.py", 1, 12, 2, 0, "invalid-syntax", "error", "Expected `)`, found newline",
         None),
    ],
}


def expected_rows(tool: str) -> list[dict]:
    keys = diagnostics.ROW_KEYS[1:]
    return [{"tool": tool, **dict(zip(keys, row, strict=True))} for row in EXPECTED[tool]]


def sort_rows(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["rel_path"], r["line"], r["col"], r["end_line"],
                                       r["end_col"], r["code"], r["severity"], r["message"]))


def raw_output(tool: str, root: Path) -> str:
    """A captured output with the recorded root replaced by `root` (where the files are)."""
    return (FIXTURES / f"{tool}.json").read_text(encoding="utf-8").replace(RECORDED_ROOT, str(root))


def executable(tool: str) -> str:
    """The tool next to this interpreter (the project venv), else its name on PATH."""
    local = Path(sys.executable).parent / tool
    return str(local) if local.exists() else shutil.which(tool) or tool


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the sample project (the tools run outside any configured repository)."""
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    return root


# --- parsers on the captured real output ---------------------------------------------------------

@pytest.mark.parametrize("tool", ["pyright", "pyrefly", "ruff"])
def test_parse_captured_output(tool: str) -> None:
    assert MODULES[tool].parse(raw_output(tool, SAMPLE), str(SAMPLE)) == expected_rows(tool)


@pytest.mark.parametrize("tool", ["pyright", "pyrefly", "ruff"])
def test_parse_without_the_sources_keeps_tool_columns(tool: str, tmp_path: Path) -> None:
    """Columns are converted only where the line can be read; elsewhere they stay the tool's."""
    rows = MODULES[tool].parse(raw_output(tool, tmp_path), str(tmp_path))
    emoji_line = [(r["col"], r["end_col"]) for r in rows if r["line"] == 25]
    # pyright counts UTF-16 units (the emoji is 2), pyrefly and ruff code points.
    assert emoji_line == {"pyright": [(24, 29), (37, 51)], "pyrefly": [(23, 28), (36, 50)],
                          "ruff": [(36, 50)]}[tool]


def test_bom_columns(tmp_path: Path) -> None:
    """pyright counts a BOM as the first character of line 1, ruff does not; both rows point
    at the same bytes of the line as ast numbers them (BOM dropped)."""
    (tmp_path / "b.py").write_bytes('\ufeffimport os; x: int = "é"\n'.encode())
    # as pyright 1.1.414 and ruff 0.17.6 report them: `os` and the string `"é"`
    rng = {"start": {"line": 0, "character": 21}, "end": {"line": 0, "character": 24}}
    report = {"generalDiagnostics": [{"file": str(tmp_path / "b.py"), "severity": "error",
                                      "message": "m", "rule": "r", "range": rng}]}
    [row] = pyright.parse(json.dumps(report), str(tmp_path))
    assert (row["col"], row["end_col"]) == (20, 24)  # `"é"` is 4 bytes
    ruff_report = [{"filename": str(tmp_path / "b.py"), "code": "F401", "message": "m",
                    "location": {"row": 1, "column": 8}, "end_location": {"row": 1, "column": 10},
                    "url": None}]
    [row] = ruff.parse(json.dumps(ruff_report), str(tmp_path))
    assert (row["col"], row["end_col"]) == (7, 9)


def test_parse_drops_files_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    diag = {"severity": "error", "message": "m", "rule": "r",
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}}
    report = {"generalDiagnostics": [{**diag, "file": str(tmp_path / "other" / "x.py")},
                                     {**diag, "file": str(tmp_path / "repo2" / "x.py")},
                                     {**diag, "file": str(root / "a" / "x.py")},
                                     {**diag, "file": ""}]}
    assert [r["rel_path"] for r in pyright.parse(json.dumps(report), str(root))] == ["a/x.py"]
    errors = {"errors": [{"line": 1, "column": 1, "stop_line": 1, "stop_column": 2, "path": p,
                          "name": "n", "description": "d", "severity": "warn"}
                         for p in ("../x.py", "a/y.py", str(root / "b.py"))]}
    assert [(r["rel_path"], r["severity"]) for r in pyrefly.parse(json.dumps(errors), str(root))] \
        == [("a/y.py", "warning"), ("b.py", "warning")]
    violations = [{"code": None, "filename": "/elsewhere/x.py", "message": "m", "url": None,
                   "location": {"row": 1, "column": 1}, "end_location": {"row": 1, "column": 1}},
                  {"code": None, "filename": str(root / "c.py"), "message": "m", "url": None,
                   "location": {"row": 3, "column": 5}, "end_location": {"row": 4, "column": 1}}]
    assert ruff.parse(json.dumps(violations), str(root)) == [{
        "tool": "ruff", "rel_path": "c.py", "line": 3, "col": 4, "end_line": 4, "end_col": 0,
        "code": "", "severity": "error", "message": "m", "rule_url": None}]


@pytest.mark.parametrize("tool", ["pyright", "pyrefly", "ruff"])
@pytest.mark.parametrize("text", ["", "Traceback (most recent call last):", "{}", "[1]", "null"])
def test_parse_rejects_other_output(tool: str, text: str) -> None:
    with pytest.raises(ValueError):
        MODULES[tool].parse(text, "/tmp")


def test_parse_rejects_unknown_severity() -> None:
    report = {"generalDiagnostics": [{"file": "/r/a.py", "severity": "hint", "message": "m"}]}
    with pytest.raises(ValueError, match="severity"):
        pyright.parse(json.dumps(report), "/r")


def test_byte_offsets() -> None:
    # the diagnostics' units, through the shared LineIndex (extract/lines.py)
    text = 'a = "😀é"; b'

    def to_byte_offset(line: str, col: int, unit: str) -> int:
        return LineIndex(line).byte_col(1, col, unit)

    assert to_byte_offset(text, 10, CODEPOINT) == 14 == to_byte_offset(text, 11, UTF16)
    assert to_byte_offset(text, 5, UTF16) == 5  # inside the surrogate pair: start of the emoji
    assert to_byte_offset(text, len(text) + 2, CODEPOINT) == len(text.encode()) + 2
    assert to_byte_offset("ascii", 3, UTF16) == 3


def test_rel_path_in_root(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "pkg").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert rel_path_in_root(str(real / "pkg" / "m.py"), str(link)) == "pkg/m.py"
    assert rel_path_in_root("pkg/../m.py", str(real)) == "m.py"
    assert rel_path_in_root(str(real), str(real)) is None
    assert rel_path_in_root(str(tmp_path / "realx" / "m.py"), str(real)) is None


# --- the real tools ------------------------------------------------------------------------------

@pytest.mark.parametrize("tool", ["pyright", "pyrefly", "ruff"])
def test_run_real_tool(tool: str, project: Path) -> None:
    """The pinned tool on the sample gives exactly the captured rows (an upgrade fails here)."""
    rows = MODULES[tool].run(ToolRunner(), str(project), ["pkg/util.py", "./pkg/__init__.py",
                                                          "pkg/broken.py"],
                             executable=executable(tool), timeout_s=120).rows
    assert rows == sort_rows(expected_rows(tool))
    assert not (project / ".ruff_cache").exists()


@pytest.mark.parametrize("tool", ["pyright", "pyrefly", "ruff"])
def test_run_only_the_given_files(tool: str, project: Path) -> None:
    rows = MODULES[tool].run(ToolRunner(), str(project), ["pkg/util.py"],
                             executable=executable(tool), timeout_s=120).rows
    assert rows == [r for r in sort_rows(expected_rows(tool)) if r["rel_path"] == "pkg/util.py"]


def test_run_chunks_large_file_lists(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diagnostics, "ARGV_BUDGET_BYTES", 20)  # one file per invocation
    rows = ruff.run(ToolRunner(), str(project), FILES, executable=executable("ruff"),
                    timeout_s=60).rows
    assert rows == sort_rows(expected_rows("ruff"))
    assert chunk_paths(["a.py", "bb.py", "c.py"], 11) == [["a.py", "bb.py"], ["c.py"]]
    assert chunk_paths([], 11) == []


@pytest.mark.parametrize("tool", ["pyright", "pyrefly", "ruff"])
def test_no_files_runs_nothing(tool: str, project: Path) -> None:
    assert MODULES[tool].run(ToolRunner(), str(project), [], executable="/nonexistent/x",
                             timeout_s=1).rows == []


@pytest.mark.parametrize("tool", ["pyright", "pyrefly", "ruff"])
def test_missing_tool(tool: str, project: Path) -> None:
    for exe in (f"/nonexistent/{tool}", f"no-such-{tool}-on-path"):
        with pytest.raises(ToolNotFoundError, match=tool) as info:
            MODULES[tool].run(ToolRunner(), str(project), FILES, executable=exe, timeout_s=10)
        assert info.value.tool == tool


@pytest.mark.parametrize("tool", ["pyright", "pyrefly"])
def test_timeout(tool: str, project: Path) -> None:
    with pytest.raises(ToolExecutionError, match="timed out"):
        MODULES[tool].run(ToolRunner(), str(project), FILES, executable=executable(tool),
                          timeout_s=0.01)


def test_failing_exit_codes_raise(project: Path) -> None:
    # ruff exits 2 on a configuration it cannot read.
    (project / "ruff.toml").write_text('lint.select = ["NOPE999"]\n')
    with pytest.raises(ToolExecutionError, match=r"exit code 2") as info:
        ruff.run(ToolRunner(), str(project), FILES, executable=executable("ruff"), timeout_s=60)
    assert info.value.returncode == 2 and "NOPE999" in info.value.stderr_tail
    # pyright exits 4 for a file that does not exist.
    with pytest.raises(ToolExecutionError, match=r"exit code 4"):
        pyright.run(ToolRunner(), str(project), ["pkg/missing.py"],
                    executable=executable("pyright"), timeout_s=120)
    # pyrefly exits 1 for it, as for errors, but prints no report: unparseable output raises.
    with pytest.raises(ToolExecutionError, match="unparseable pyrefly output"):
        pyrefly.run(ToolRunner(), str(project), ["pkg/missing.py"],
                    executable=executable("pyrefly"), timeout_s=120)


def test_pyrefly_respects_a_target_config(project: Path) -> None:
    """Without a config pyrefly gets `--preset default`; with one, the target's settings rule."""
    assert not pyrefly.has_config(str(project))
    (project / "pyproject.toml").write_text('[project]\nname = "s"\n')
    assert not pyrefly.has_config(str(project))
    (project / "pyproject.toml").write_text('[tool.pyrefly]\n[tool.pyrefly.errors]\n'
                                            'bad-assignment = false\n')
    assert pyrefly.has_config(str(project))
    rows = pyrefly.run(ToolRunner(), str(project), FILES, executable=executable("pyrefly"),
                       timeout_s=120).rows
    assert rows == sort_rows([r for r in expected_rows("pyrefly")
                              if r["code"] != "bad-assignment"])


# --- occurrences and per-file counts -------------------------------------------------------------

def test_number_occurrences() -> None:
    rows = expected_rows("pyright")
    numbered = number_occurrences(rows)
    assert [r["occurrence"] for r in numbered] == [1] * 7 + [1, 1, 2, 1, 1, 2, 3] + [1]
    assert "occurrence" not in rows[0]  # copies, the input is untouched
    assert len({(r["tool"], r["rel_path"], r["line"], r["col"], r["code"], r["occurrence"])
                for r in numbered}) == len(rows)
    same = {"tool": "ruff", "rel_path": "a.py", "line": 1, "col": 0, "code": "F401"}
    assert [r["occurrence"] for r in number_occurrences(
        [same, {**same, "code": "F811"}, same, {**same, "tool": "pyright"}, same])] == [1, 1, 2, 1, 3]


def test_per_file_counts() -> None:
    rows = [r for tool in ("pyright", "pyrefly", "ruff") for r in expected_rows(tool)]
    counts = per_file_counts(rows, ["pkg/util.py", "pkg/__init__.py", "pkg/clean.py"])
    assert counts == [
        {"rel_path": "pkg/util.py", "pyright_errors": 1, "pyrefly_errors": 1, "ruff_errors": 0,
         "style_findings": 0, "total_errors": 2, "has_errors": True},
        # 7 pyright rows less a warning and an information; 9 pyrefly rows less warn and info;
        # ruff's UP035 (pyupgrade) is a style finding, not one of the four lint errors.
        {"rel_path": "pkg/__init__.py", "pyright_errors": 5, "pyrefly_errors": 7,
         "ruff_errors": 4, "style_findings": 1, "total_errors": 16, "has_errors": True},
        {"rel_path": "pkg/clean.py", "pyright_errors": 0, "pyrefly_errors": 0, "ruff_errors": 0,
         "style_findings": 0, "total_errors": 0, "has_errors": False},
    ]  # pkg/broken.py was not scanned, so it does not appear
    ruff_warning = {**expected_rows("ruff")[0], "severity": "warning"}
    assert per_file_counts([ruff_warning], ["pkg/__init__.py"])[0]["ruff_errors"] == 1
    style_only = {**expected_rows("ruff")[1]}
    assert per_file_counts([style_only], ["pkg/__init__.py"])[0] == {
        "rel_path": "pkg/__init__.py", "pyright_errors": 0, "pyrefly_errors": 0,
        "ruff_errors": 0, "style_findings": 1, "total_errors": 0, "has_errors": False}


def test_category_separates_type_lint_and_style() -> None:
    """analytics.diagnostics.category: the type checkers' rows are 'type', ruff's rows 'style'
    when their linter is about form (STYLE_CODE), else 'lint' (syntax errors included)."""
    rows = [r for tool in ("pyright", "pyrefly", "ruff") for r in expected_rows(tool)]
    numbered = number_occurrences(rows)
    assert {r["category"] for r in numbered if r["tool"] != "ruff"} == {"type"}
    assert [(r["code"], r["category"]) for r in numbered if r["tool"] == "ruff"] == [
        ("F401", "lint"), ("UP035", "style"), ("RUF022", "lint"), ("F821", "lint"),
        ("F821", "lint"), ("invalid-syntax", "lint"), ("invalid-syntax", "lint")]
    assert diagnostics.category("ruff", "") == "lint"


# --- typedness -----------------------------------------------------------------------------------

TYPEDNESS_SOURCE = '''\
import functools


def plain(a, b=1, *args, c, d=2, **kwargs):
    def nested(x: int):
        return x
    return nested


async def fetch(url: str, /, timeout: float = 1.0) -> bytes:
    return b""


def no_params() -> None:
    pass


def no_params_untyped():
    pass


class C:
    def method(self, a: int, b):
        pass

    def bare(self):
        pass

    def typed_bare(self) -> int:
        return 1

    @classmethod
    def make(cls, *items: int) -> "C":
        return cls()

    @staticmethod
    def helper(a, b: str):
        pass

    @functools.staticmethod
    def helper2(a):
        pass

    def only_star(*args):
        pass

    async def amethod(self, x: int, /, *, y) -> None:
        lambda q: q

    class Inner:
        def deep(self, z: int) -> int:
            return z
'''


def typedness_row(tmp_path: Path, source: str, errors: int = 0) -> dict:
    """ast_extract's def rows of `source` aggregated as typing_ingest does."""
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    job = FileJob("acme/widgets", "c" * 40, "src/m.py", str(path), "m")
    defs = [n for n in extract_ast(job)["core.ast_nodes"]
            if n["node_type"] in ("FunctionDef", "AsyncFunctionDef")]
    (row,) = typedness_rows("acme/widgets", "c" * 40, ["src/m.py"], defs, {"src/m.py": errors})
    return row


def test_typedness_counts(tmp_path: Path) -> None:
    row = typedness_row(tmp_path, TYPEDNESS_SOURCE)
    # def: (params_total, params_annotated, returns_annotated, untyped)
    # plain 6/0/0 untyped; nested 1/1/0; fetch 2/2/1; no_params 0/0/1; no_params_untyped 0/0/0
    # untyped; method 2/1/0; bare 0/0/0 untyped; typed_bare 0/0/1; make 1/1/1; helper 2/1/0;
    # helper2 1/0/0 untyped; only_star 1/0/0 untyped (*args is not self); amethod 2/1/1;
    # deep 1/1/1.
    assert row == {
        "repo": "acme/widgets", "commit": "c" * 40, "rel_path": "src/m.py",
        "params_annotated": 8, "params_total": 19, "returns_annotated": 6, "defs_total": 14,
        "param_ratio": 8 / 19, "return_ratio": 6 / 14, "untyped_defs": 5,
        "type_error_count": 0, "overlay_needed": True,
    }


def test_typedness_empty_and_fully_typed(tmp_path: Path) -> None:
    empty = typedness_row(tmp_path, "X = 1\n")
    assert (empty["defs_total"], empty["params_total"], empty["param_ratio"],
            empty["return_ratio"], empty["untyped_defs"], empty["overlay_needed"]) == \
        (0, 0, None, None, 0, False)
    typed = typedness_row(tmp_path, "def f() -> int:\n    return 1\n")
    assert (typed["params_total"], typed["param_ratio"], typed["return_ratio"],
            typed["untyped_defs"], typed["overlay_needed"]) == (0, None, 1.0, 0, False)
    with_errors = typedness_row(tmp_path, "def f() -> int:\n    return 1\n", errors=3)
    assert with_errors == {**typed, "type_error_count": 3, "overlay_needed": True}


# --- regenerating the captured outputs -----------------------------------------------------------

def _recapture() -> None:
    """Rerun the tools on a copy of the sample at RECORDED_ROOT and store their raw stdout."""
    root = Path(RECORDED_ROOT)
    shutil.rmtree(root.parent, ignore_errors=True)
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    argvs = {"pyright": pyright.argv_for(FILES),
             "pyrefly": pyrefly.argv_for(FILES, pyrefly.has_config(str(root))),
             "ruff": ruff.argv_for(FILES)}
    for tool, argv in argvs.items():
        result = ToolRunner().run([executable(tool), *argv], cwd=root, ok_codes=(0, 1))
        (FIXTURES / f"{tool}.json").write_text(result.stdout, encoding="utf-8")
        print(f"{tool}: exit {result.returncode}, {len(result.stdout)} chars")


if __name__ == "__main__" and "--recapture" in sys.argv:
    _recapture()


def test_style_codes_are_whole_style_linters_by_ruffs_own_table(tmp_path):
    """diagnostics.STYLE_CODE (the style findings risk does not count) selects exactly the style
    linters of the installed ruff's rule table, and of pycodestyle all but E4/E7/E9, ruff's
    default lint rules: a new linter whose prefix collides would show here."""
    result = ToolRunner().run([executable("ruff"), "rule", "--all", "--output-format", "json"],
                              cwd=tmp_path, timeout_s=60)
    rules = [r for r in json.loads(result.stdout) if r["code"]]
    style = {r["linter"] for r in rules if re.match(diagnostics.STYLE_CODE, r["code"])}
    assert style == {"pycodestyle", "pyupgrade", "isort", "pydocstyle", "pep8-naming",
                     "flake8-commas", "flake8-quotes", "flake8-implicit-str-concat",
                     "flake8-future-annotations", "flake8-annotations"}
    missed = {r["code"][:2] for r in rules
              if r["linter"] in style and not re.match(diagnostics.STYLE_CODE, r["code"])}
    assert missed == {"E4", "E7", "E9"}
