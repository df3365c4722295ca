"""scip-python: the real indexer on small repositories, the partial-index policy, the
exclusion of crashing files without touching the tree, decoding, symbol parsing."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from unittest import mock

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.storage import scip_update
from codeintel_assets.tools import scip_config, scip_index, scip_pb2
from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolRunner,
)
from codeintel_assets.tools.scip_decode import decode
from codeintel_assets.tools.scip_index import ScipIndexResult, crash_culprit
from codeintel_assets.tools.scip_symbols import (
    METHOD,
    NAMESPACE,
    PARAMETER,
    TYPE,
    Descriptor,
    ScipSymbol,
    parse_symbol,
)
from codeintel_assets_tests.conftest import git, make_git_repo, write_files

PKG = "scip-python python demo 1.0 "
CORE = "pkg/core.py"
CORE_SRC = '''"""Core."""
from pkg.deco import traced


@traced
def double(x: int) -> int:
    """Double x."""
    total = x * 2
    return total


class Greeter:
    """Greets people."""

    def greet(self, name: str) -> str:
        label = "héllo 😀"; count = double(2)
        return f"{label} {name} {count}"
'''
SAMPLE = {
    "pkg/__init__.py": '"""Demo package."""\n',
    "pkg/deco.py": '''"""Decorators."""
import functools


def traced(fn):
    """Wrap fn."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper
''',
    CORE: CORE_SRC,
    "pkg/app.py": '''from pkg.core import Greeter, double


def run() -> str:
    result = double(21)
    return Greeter().greet(str(result))
''',
}

# A pyright 1.1.x internal error ("Debug Failure. False expression." in
# verifyTypeArgumentsAssignable) that makes scip-python 0.6.6 crash on use.py; reduced from
# django's tests/model_enums/tests.py. It needs Python >= 3.11 stubs (enum.property).
CRASH = {
    "choices.py": '''import enum
import os

if os.environ.get("X"):
    from enum import property as enum_property


class Choices(str, enum.Enum):
    @enum_property
    def label(self):
        return self._label_
''',
    "use.py": '''from choices import Choices


class Gender(Choices):
    MALE = "M"


def check() -> None:
    print(Gender.MALE.label)
''',
    "ok.py": "def fine() -> int:\n    return 1\n",
}
PYPROJECT = '[project]\nname = "crashy"\n\n[tool.pyright]\npythonVersion = "3.12"\n'
PYRIGHTCONFIG = '{\n  // keep me\n  "pythonVersion": "3.12",\n}\n'


@pytest.fixture(scope="session")
def scip_python() -> str:
    """The pinned scip-python, installed with `npm ci` when node_modules is missing."""
    try:
        return scip_index.scip_python_executable(str(scip_index.PROJECT_ROOT))
    except ToolNotFoundError:
        if shutil.which("npm") is None or shutil.which("node") is None:
            pytest.skip("node/npm are not installed")
    ToolRunner().run(["npm", "ci", "--prefix", str(scip_index.NODE_DIR)], timeout_s=600)
    return scip_index.scip_python_executable(str(scip_index.PROJECT_ROOT))


def _index(root: Path, out: Path, runner: ToolRunner | None = None, **kw) -> ScipIndexResult:
    return scip_index.run_index(runner or ToolRunner(), str(root), str(out), "demo", "1.0",
                                timeout_s=kw.pop("timeout_s", 300), **kw)


@pytest.fixture(scope="module")
def sample(scip_python, tmp_path_factory):
    base = tmp_path_factory.mktemp("scip")
    root = make_git_repo(base / "repo", SAMPLE)
    result = _index(root, base / "out" / "index.scip")
    symbols, occurrences = decode(result.output, str(root))
    return root, result, symbols, occurrences


def _sym(symbols, symbol, document=""):
    rows = [s for s in symbols if s["symbol"] == symbol and s["document"] == document]
    assert len(rows) == 1, (symbol, document, rows)
    return rows[0]


def _byte_col(text: str, line: int, needle: str) -> int:
    raw = text.splitlines()[line - 1].encode()
    return raw.index(needle.encode())


def test_run_index_result(sample):
    root, result, _symbols, _occurrences = sample
    out = Path(result.output)
    assert out.is_file() and not out.with_name(out.name + ".partial").exists()
    assert result.size_bytes == out.stat().st_size > 0
    assert result.tool_version == "0.6.6"
    assert result.document_count == 4
    assert result.excluded_files == () and result.attempts == 1
    assert result.wall_s > 0 and result.analysis_failures == 0
    assert git(root, "status", "--porcelain") == ""  # the target is left untouched


def test_definition_symbols(sample):
    _root, _result, symbols, _occurrences = sample
    assert _sym(symbols, PKG + "`pkg.core`/double().") == {
        "symbol": PKG + "`pkg.core`/double().", "document": "", "kind": "",
        "display_name": "double",
        "documentation": '```python\n@traced\ndef double(\n  x: int\n) -> int:\n```\n\nDouble x.',
        "enclosing_symbol": "",
        # the NAME token of the decorated def (line 6), not the decorator (line 5)
        "def_rel_path": CORE, "def_line": 6, "def_col": 4, "is_local": False,
    }
    assert _sym(symbols, PKG + "`pkg.core`/Greeter#") == {
        "symbol": PKG + "`pkg.core`/Greeter#", "document": "", "kind": "",
        "display_name": "Greeter",
        "documentation": "```python\nclass Greeter:\n```\n\nGreets people.",
        "enclosing_symbol": "", "def_rel_path": CORE, "def_line": 12, "def_col": 6,
        "is_local": False,
    }
    method = _sym(symbols, PKG + "`pkg.core`/Greeter#greet().")
    assert (method["display_name"], method["def_rel_path"], method["def_line"],
            method["def_col"]) == ("greet", CORE, 15, 8)
    module = _sym(symbols, PKG + "`pkg.core`/__init__:")
    assert (module["display_name"], module["def_line"], module["def_col"],
            module["documentation"]) == ("pkg.core", 1, 0, "(module) pkg.core\n\nCore.")
    param = _sym(symbols, PKG + "`pkg.core`/double().(x)")
    assert (param["display_name"], param["def_line"], param["def_col"]) == ("x", 6, 11)
    # scip-python 0.6.6 sets no SymbolInformation.kind / display_name / enclosing_symbol
    assert {s["kind"] for s in symbols} == {""}
    # external symbols have a row but no definition in the index
    # (the stdlib version in the symbol is that of the python3 on PATH)
    [ext] = [s for s in symbols if s["symbol"].startswith("scip-python python python-stdlib ")
             and s["symbol"].endswith(" builtins/int#")]
    assert ext["def_rel_path"] is None and ext["display_name"] == "int"
    assert len({(s["symbol"], s["document"]) for s in symbols}) == len(symbols)


def test_call_occurrences(sample):
    _root, _result, _symbols, occurrences = sample
    double = PKG + "`pkg.core`/double()."
    calls = [o for o in occurrences if o["symbol"] == double and o["rel_path"] == "pkg/app.py"]
    assert calls == [
        {"rel_path": "pkg/app.py", "start_line": 1, "start_col": 30, "symbol": double,
         "end_line": 1, "end_col": 36, "symbol_roles": 8, "is_definition": False},
        {"rel_path": "pkg/app.py", "start_line": 5, "start_col": 13, "symbol": double,
         "end_line": 5, "end_col": 19, "symbol_roles": 8, "is_definition": False},
    ]
    # non-ASCII line: "héllo 😀" is 8 UTF-16 units but 11 UTF-8 bytes before the call
    col = _byte_col(CORE_SRC, 16, "double(2)")
    assert {"rel_path": CORE, "start_line": 16, "start_col": col, "symbol": double,
            "end_line": 16, "end_col": col + 6, "symbol_roles": 8,
            "is_definition": False} in occurrences
    definitions = [o for o in occurrences if o["symbol"] == double and o["is_definition"]]
    assert [(o["rel_path"], o["start_line"], o["start_col"]) for o in definitions] == [
        (CORE, 6, 4)]
    keys = [(o["rel_path"], o["start_line"], o["start_col"], o["symbol"]) for o in occurrences]
    assert len(set(keys)) == len(keys)


def test_occurrence_columns_are_utf8_bytes(sample):
    root, _result, _symbols, occurrences = sample
    lines = {rel: (root / rel).read_bytes().splitlines() for rel in SAMPLE}
    checked = 0
    for o in occurrences:
        if o["start_line"] == o["end_line"] and o["end_col"] > o["start_col"]:
            text = lines[o["rel_path"]][o["start_line"] - 1][o["start_col"]:o["end_col"]]
            assert all(part.isidentifier() for part in text.decode().split(".")), o
            checked += 1
    assert checked > 30


def test_locals(sample):
    _root, _result, symbols, occurrences = sample
    local_rows = [s for s in symbols if s["is_local"]]
    assert local_rows and all(s["symbol"].startswith("local ") for s in local_rows)
    assert all(s["document"] == s["def_rel_path"] for s in local_rows)
    by_name = {(s["document"], s["display_name"]): s for s in local_rows}
    total = by_name[(CORE, "total")]
    assert (total["def_line"], total["def_col"]) == (8, 4)
    count = by_name[(CORE, "count")]
    assert (count["def_line"], count["def_col"]) == (16, _byte_col(CORE_SRC, 16, "count"))
    result = by_name[("pkg/app.py", "result")]
    assert (result["def_line"], result["def_col"]) == (5, 4)
    uses = [o for o in occurrences if o["symbol"] == result["symbol"]
            and o["rel_path"] == "pkg/app.py"]
    assert [(o["start_line"], o["is_definition"]) for o in uses] == [(5, True), (6, False)]
    # `local N` ids restart in every document: the key includes the document
    assert len({s["symbol"] for s in local_rows}) < len(local_rows)


def _tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """rel_path -> (sha256, mtime_ns) of every file under root (.git included)."""
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                             p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


class TreeWatchingRunner(ToolRunner):
    """A ToolRunner that checks the tree while each scip-python attempt is about to run, i.e.
    with the exclusion of the previous crash in force: what a killed run would leave behind."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root, self.before, self.envs = root, _tree_digest(root), []

    def run(self, argv, **kw):
        assert _tree_digest(self.root) == self.before
        self.envs.append(dict(kw.get("env") or {}))
        return super().run(argv, **kw)


@pytest.mark.parametrize("config", ["pyproject", "pyrightconfig", "scip-pyrightconfig"])
def test_crashing_file_is_excluded_without_touching_the_tree(scip_python, tmp_path, config):
    config_file = "pyproject.toml" if config == "pyproject" else f"{config}.json"
    files = {**CRASH, config_file: PYPROJECT if config == "pyproject" else PYRIGHTCONFIG}
    root = make_git_repo(tmp_path / "repo", files)
    os.utime(root / config_file, ns=(1_000_000_000, 1_000_000_000))  # mtimes are compared too
    before = _tree_digest(root)
    runner = TreeWatchingRunner(root)
    out = tmp_path / "index.scip"
    result = _index(root, out, runner=runner)
    assert result.excluded_files == ("use.py",)
    assert result.attempts == 2
    index = scip_pb2.Index()
    index.ParseFromString(out.read_bytes())
    assert sorted(d.relative_path for d in index.documents) == ["choices.py", "ok.py"]
    # byte for byte (and mtime for mtime) the same tree, during the retry and after it
    assert _tree_digest(root) == before
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    # the retry read its config from a temporary file outside the tree, deleted afterwards
    retry = runner.envs[1]
    served = Path(retry[scip_config.SOURCE_VAR])
    assert not served.is_relative_to(root) and not served.exists()
    served_as = config_file if config != "pyproject" else "pyrightconfig.json"
    assert retry[scip_config.TARGET_VAR] == str(root.resolve() / served_as)
    assert scip_config.SOURCE_VAR not in runner.envs[0]


def test_excluded_run_matches_a_run_without_the_file(scip_python, tmp_path):
    """The exclusion changes no path pyright sees: the other files' symbols (package names
    included) and occurrences are those of a plain run on the tree without the culprit."""
    root = make_git_repo(tmp_path / "repo", {**CRASH, "pyproject.toml": PYPROJECT})
    excluded = _index(root, tmp_path / "excluded.scip")
    assert excluded.excluded_files == ("use.py",)
    (root / "use.py").unlink()
    plain = _index(root, tmp_path / "plain.scip")
    assert plain.excluded_files == ()
    ex_symbols, ex_occurrences = decode(excluded.output, str(root))
    symbols, occurrences = decode(plain.output, str(root))
    assert ex_occurrences == occurrences and len(occurrences) > 5
    assert {s["symbol"] for s in ex_symbols} == {s["symbol"] for s in symbols}


def test_effective_config(tmp_path):
    """The config scip-python would read: JSONC parsed with json5; else pyproject's tables."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pyright]\npythonVersion = "3.11"\n[tool.scip]\npythonVersion = "3.12"\n')
    assert scip_config.effective_config(tmp_path) == (
        tmp_path / "pyrightconfig.json", {"pythonVersion": "3.12"})  # [tool.scip] first
    (tmp_path / "pyrightconfig.json").write_bytes(
        ("\ufeff" + PYRIGHTCONFIG + '/* "exclude": ["x"] */').encode())
    assert scip_config.effective_config(tmp_path) == (
        tmp_path / "pyrightconfig.json", {"pythonVersion": "3.12"})
    (tmp_path / "scip-pyrightconfig.json").write_text('{"exclude": ["a", "b",],}')
    assert scip_config.effective_config(tmp_path) == (
        tmp_path / "scip-pyrightconfig.json", {"exclude": ["a", "b"]})
    (tmp_path / "scip-pyrightconfig.json").write_text("{not json")
    assert scip_config.effective_config(tmp_path) == (tmp_path / "scip-pyrightconfig.json", {})


def test_crash_on_imported_file_fails_without_partial_index(scip_python, tmp_path):
    # an excluded file that another indexed file imports is still indexed by pyright
    files = {**CRASH, "pyproject.toml": PYPROJECT, "main.py": "import use\n\nuse.check()\n"}
    root = make_git_repo(tmp_path / "repo", files)
    out = tmp_path / "index.scip"
    with pytest.raises(ToolExecutionError, match="use.py again") as info:
        _index(root, out)
    assert info.value.returncode == 1
    assert "currentFilepath" in info.value.stderr_tail
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_max_retries_zero_gives_up_on_first_crash(scip_python, tmp_path):
    root = make_git_repo(tmp_path / "repo", {**CRASH, "pyproject.toml": PYPROJECT})
    out = tmp_path / "index.scip"
    with pytest.raises(ToolExecutionError, match="after 0 retries"):
        _index(root, out, max_retries=0)
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()


def test_timeout_leaves_no_index(scip_python, tmp_path):
    root = make_git_repo(tmp_path / "repo", SAMPLE)
    out = tmp_path / "index.scip"
    out.write_bytes(b"stale index of an earlier run")
    with pytest.raises(ToolExecutionError, match="timed out"):
        _index(root, out, timeout_s=0.5)
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()


def test_outside_a_git_checkout(scip_python, tmp_path):
    root = tmp_path / "plain"
    write_files(root, {"app.py": "def main() -> int:\n    value = 1\n    return value\n"})
    result = _index(root, tmp_path / "index.scip")
    assert result.document_count == 1
    symbols, occurrences = decode(result.output)  # root from Metadata.project_root
    main = _sym(symbols, PKG + "app/main().")
    assert (main["def_rel_path"], main["def_line"], main["def_col"]) == ("app.py", 1, 4)
    assert any(o["symbol"].startswith("local ") and o["is_definition"] for o in occurrences)
    with pytest.raises(ValueError, match="project_version"):
        scip_index.run_index(ToolRunner(), str(root), str(tmp_path / "x.scip"), "demo", "", 60)


def test_missing_executable(tmp_path, monkeypatch):
    monkeypatch.setattr(scip_index, "NODE_DIR", tmp_path / "node")
    with pytest.raises(ToolNotFoundError, match="npm ci --prefix codeintel_assets/tools/node"):
        scip_index.scip_python_executable(str(scip_index.PROJECT_ROOT))
    with pytest.raises(ToolNotFoundError, match="scip-python"):
        _index(tmp_path, tmp_path / "index.scip")


# --- decoding details on hand-built indexes (no scip-python) ---------------------------------


def _write_index(path: Path, index: scip_pb2.Index) -> str:
    path.write_bytes(index.SerializeToString())
    return str(path)


def test_decode_converts_utf16_columns_and_merges_duplicates(tmp_path):
    # line 1 starts with a BOM; line 2 has an astral character before `b`
    (tmp_path / "m.py").write_bytes("\ufeffa = 1\nx = '😀'; b = a\n".encode())
    sym_a, sym_b = "s . p 1 m/a.", "s . p 1 m/b."
    doc = scip_pb2.Document(relative_path="m.py", occurrences=[
        scip_pb2.Occurrence(range=[0, 1, 2], symbol=sym_a, symbol_roles=1),
        scip_pb2.Occurrence(range=[1, 10, 11], symbol=sym_b, symbol_roles=1),
        scip_pb2.Occurrence(range=[1, 10, 11], symbol=sym_b, symbol_roles=4),  # duplicate
        scip_pb2.Occurrence(range=[1, 14, 1, 15], symbol=sym_a, symbol_roles=8),
        scip_pb2.Occurrence(range=[1, 0, 1], symbol="local 0", symbol_roles=1),
        scip_pb2.Occurrence(range=[0, 5, 6], symbol="s . p 1 m/undeclared.", symbol_roles=8),
        scip_pb2.Occurrence(range=[0, 0, 1], symbol=""),  # highlighting only
    ], symbols=[
        scip_pb2.SymbolInformation(symbol=sym_a, documentation=["one", "two"],
                                   kind=scip_pb2.SymbolInformation.Variable),
        scip_pb2.SymbolInformation(symbol=sym_b, display_name="bee"),
        scip_pb2.SymbolInformation(symbol="local 0"),
    ])
    index = scip_pb2.Index(documents=[doc], external_symbols=[
        scip_pb2.SymbolInformation(symbol="local 7"),  # no document: dropped
        scip_pb2.SymbolInformation(symbol="s . ext 2 `ext.mod`/f()."),
        scip_pb2.SymbolInformation(symbol=sym_a, documentation=["ignored"]),
    ])
    symbols, occurrences = decode(_write_index(tmp_path / "i.scip", index), str(tmp_path))
    assert symbols == [
        {"symbol": sym_a, "document": "", "kind": "Variable", "display_name": "a",
         "documentation": "one\n\ntwo", "enclosing_symbol": "", "def_rel_path": "m.py",
         "def_line": 1, "def_col": 0, "is_local": False},
        {"symbol": sym_b, "document": "", "kind": "", "display_name": "bee",
         "documentation": "", "enclosing_symbol": "", "def_rel_path": "m.py",
         "def_line": 2, "def_col": 12, "is_local": False},
        {"symbol": "local 0", "document": "m.py", "kind": "", "display_name": "x",
         "documentation": "", "enclosing_symbol": "", "def_rel_path": "m.py",
         "def_line": 2, "def_col": 0, "is_local": True},
        {"symbol": "s . ext 2 `ext.mod`/f().", "document": "", "kind": "", "display_name": "f",
         "documentation": "", "enclosing_symbol": "", "def_rel_path": None,
         "def_line": None, "def_col": None, "is_local": False},
    ]
    assert [(o["start_line"], o["start_col"], o["end_line"], o["end_col"], o["symbol"],
             o["symbol_roles"], o["is_definition"]) for o in occurrences] == [
        (1, 0, 1, 1, sym_a, 1, True),
        (2, 12, 2, 13, sym_b, 5, True),
        (2, 16, 2, 17, sym_a, 8, False),
        (2, 0, 2, 1, "local 0", 1, True),
        (1, 4, 1, 5, "s . p 1 m/undeclared.", 8, False),
    ]
    # without the source the raw columns are kept
    _symbols, raw = decode(str(tmp_path / "i.scip"), str(tmp_path / "missing"))
    assert [o["start_col"] for o in raw] == [1, 10, 14, 0, 5]


def test_display_name():
    def name(symbol: str) -> str:
        return parse_symbol(symbol).display_name

    assert name("scip-python python demo 1.0 `pkg.util`/Greeter#greet().") == "greet"
    assert name("scip-python python demo 1.0 `pkg.util`/Greeter#greet().(name)") == "name"
    assert name("scip-python python demo 1.0 `pkg.util`/__init__:") == "pkg.util"
    assert name("scip-python python demo 1.0 pkg/__init__:") == "pkg"
    assert name("scip-python python python-stdlib 3.11 builtins/int#") == "int"
    assert name("scip-python python my  pkg 1.0 mod/`we``ird`.") == "we`ird"
    assert name("scip-python python demo 1.0 m/C#[T]") == "T"
    assert name("local 3") == ""


def test_parse_symbol():
    assert parse_symbol("scip-python python my  pkg 1.0 `pkg.util`/Greeter#greet(+1).(name)") \
        == ScipSymbol("scip-python", "python", "my pkg", "1.0", (
            Descriptor("pkg.util", NAMESPACE), Descriptor("Greeter", TYPE),
            Descriptor("greet", METHOD, "+1"), Descriptor("name", PARAMETER)))
    local = parse_symbol("local 12")
    assert local.is_local and local.local_id == "12" and local.descriptors == ()
    with pytest.raises(ValueError, match="not a SCIP symbol"):
        parse_symbol("scip-python python demo")


def test_crash_culprit_parsing(tmp_path):
    stderr = (
        'An internal error occurred while type checking file "/x/a.py": Error: boom\n\n\n'
        "Experienced Fatal Error While Indexing:\n"
        "Please create an issue at github.com/sourcegraph/scip-python: {\n"
        f"  currentFilepath: '{tmp_path}/tests/it\\'s.py',\n"
        "  error: Error: Debug Failure. False expression.\n"
        "      at verifyTypeArgumentsAssignable (/n/dist/typeEvaluator.ts:22528:9)\n}\n")
    assert crash_culprit(stderr, tmp_path) == "tests/it's.py"
    assert crash_culprit(stderr.replace(str(tmp_path), "/elsewhere"), tmp_path) is None
    assert crash_culprit("FATAL ERROR: Reached heap limit", tmp_path) is None


def test_crashing_file_fails_the_warn_check_and_keeps_the_run_green(scip_python, tmp_path):
    """The asset: scip-python's culprit is named by `scip_python_completed` (WARN), the index of
    every other file is stored, the run succeeds. (scip-python chosen: pyrefly, the default
    indexer, does not crash on this file.)"""
    root = make_git_repo(tmp_path / "repo", {**CRASH, "pyproject.toml": PYPROJECT})
    db = tmp_path / "s.duckdb"
    scip = {"symbol_indexer": "scip-python"}
    result = run.materialize("core/file_state,core/scip_occurrences", target=str(root),
                             db=str(db), tools=["scip"], tool_config=scip)
    assert result.success
    [check] = [e.event_specific_data for e in result.all_events
               if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and e.event_specific_data.asset_check_key.name == "scip_python_completed"]
    assert not check.passed and check.severity.value == "WARN"
    assert [c["rel_path"] for c in check.metadata["culprits"].value] == ["use.py"]
    with duckdb.connect(str(db), read_only=True) as con:
        paths = {p for (p,) in con.execute("SELECT DISTINCT rel_path FROM core.scip_occurrences")
                 .fetchall()}
    assert paths == {"choices.py", "ok.py"}
    # A push that leaves use.py alone indexes ok.py only (the closure needs core.imports), and
    # the check still fails on use.py.
    write_files(root, {"ok.py": "def fine() -> int:\n    return 2\n"})
    git(root, "commit", "-qam", "edit ok")
    with mock.patch.object(scip_update, "CLOSURE_FULL_SHARE", 1.0):  # 1 file of 3 is 33%
        result = run.materialize("core/file_state,core/imports,core/scip_occurrences",
                                 target=str(root), db=str(db), tools=["scip"],
                                 full_rebuild_share=1.0, tool_config=scip)
    [check] = [e.event_specific_data for e in result.all_events
               if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and e.event_specific_data.asset_check_key.name == "scip_python_completed"]
    assert not check.passed and check.metadata["files_indexed"].value == 1
    assert [(c["rel_path"], c["reason"][:26]) for c in check.metadata["culprits"].value] == \
        [("use.py", "no document since an earli")]
