"""`.pyi` stubs beside their `.py` (attrs' layout, issue 29): marked in core.file_state and
core.goids, never call targets (SCIP's answer, pyright's preference for the stub, is mapped to
the implementation, through the package's re-export), out of the function layer's tables;
a stub-only package keeps its rows and may be a target. One real run: the symbol indexer on a temp
Git repository, no test run, no type checkers."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeintel_assets import run
from codeintel_assets_tests.conftest import (
    checks,
    git,
    make_git_repo,
    rows,
    write_files,
)

FILES = {
    # attrs' shape: the package re-exports its implementation, a stub beside it declares the
    # same names (with overloads), and a stub beside the implementation module too.
    "pkg/__init__.py": "from pkg._impl import Thing, define, frozen, make\n",
    "pkg/__init__.pyi": '''from typing import overload

class Thing:
    def __init__(self, x: int) -> None: ...
    def size(self) -> int: ...

@overload
def define(cls: type) -> type: ...
@overload
def define(*, frozen: bool = ...) -> object: ...
def make(x: int) -> Thing: ...
def frozen(cls: type) -> type: ...
class _Private: ...
''',
    # `frozen` is a variable at runtime, `_Private` is not there at all: no definition to name
    "pkg/_impl.py": '''from functools import partial


class Thing:
    def __init__(self, x):
        self.x = x

    def size(self):
        return self.x


def define(cls=None, *, frozen=False):
    return cls


def make(x):
    return Thing(x)


frozen = partial(define, frozen=True)
''',
    "pkg/_impl.pyi": '''class Thing:
    def __init__(self, x: int) -> None: ...
    def size(self) -> int: ...

def define(cls: type | None = ..., *, frozen: bool = ...) -> type: ...
def make(x: int) -> Thing: ...
''',
    # a stub-only package: the only description of its code there is
    "typed_only/__init__.pyi": "def helper(x: int) -> int: ...\n",
    "app.py": '''from __future__ import annotations

import pkg
from pkg import make
from typed_only import helper


@pkg.define
class A:
    pass


def build():
    pkg.define(A)
    thing = pkg.Thing(1)
    other = make(2)
    return thing.size() + other.size() + helper(3)


def seal(p: pkg._Private):
    return pkg.frozen(A)
''',
}

STUBS = {"pkg/__init__.pyi", "pkg/_impl.pyi"}  # each has its .py beside it


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("stubs")
    repo = make_git_repo(tmp / "widgets", FILES)
    db = tmp / "ci.duckdb"
    result = run.materialize("*", target=str(repo), db=str(db), tools=["scip"],
                             console_log=False)
    assert result.success
    return db, checks(result)


def test_stubs_are_marked(indexed):
    db, _ = indexed
    assert rows(db, "SELECT rel_path FROM core.file_state WHERE is_stub ORDER BY 1") == \
        [("pkg/__init__.pyi",), ("pkg/_impl.pyi",), ("typed_only/__init__.pyi",)]
    assert rows(db, "SELECT DISTINCT rel_path, is_stub, shadowed_stub FROM core.goids "
                    "WHERE is_stub OR shadowed_stub ORDER BY 1") == \
        [("pkg/__init__.pyi", True, True), ("pkg/_impl.pyi", True, True),
         ("typed_only/__init__.pyi", True, False)]


def test_no_call_edge_into_a_stub_beside_its_py(indexed):
    db, got = indexed
    assert got["graph/call_graph_edges:call_edges_reference_goids"]
    # scip-python took part and names the stubs' symbols at the call sites (pyright prefers
    # the stub): the mapping to the implementation is what is tested
    assert rows(db, """
        SELECT count(*) > 0 FROM core.scip_occurrences o JOIN core.scip_symbols s USING (symbol)
        WHERE o.rel_path = 'app.py' AND ends_with(s.def_rel_path, '.pyi')""") == [(True,)]
    assert rows(db, """
        SELECT count(*) FROM graph.call_graph_edges e
        JOIN core.goids g ON g.goid = e.callee_goid WHERE g.shadowed_stub""") == [(0,)]
    callees = rows(db, """
        SELECT e.callsite_line, e.callee_name, g.qualname, g.rel_path
        FROM graph.call_graph_edges e JOIN core.goids g ON g.goid = e.callee_goid
        WHERE e.callsite_path = 'app.py' ORDER BY 1, 2""")
    assert callees == [
        (8, "pkg.define", "pkg._impl.define", "pkg/_impl.py"),  # the decorator
        (14, "pkg.define", "pkg._impl.define", "pkg/_impl.py"),
        (15, "pkg.Thing", "pkg._impl.Thing.__init__", "pkg/_impl.py"),
        (16, "make", "pkg._impl.make", "pkg/_impl.py"),
        (17, "helper", "typed_only.helper", "typed_only/__init__.pyi"),  # stub-only: a target
        (17, "other.size", "pkg._impl.Thing.size", "pkg/_impl.py"),
        (17, "thing.size", "pkg._impl.Thing.size", "pkg/_impl.py"),
    ]
    # SCIP names the stub's `frozen`; at runtime it is a variable: no GOID, not the stub's
    assert rows(db, "SELECT callee_goid FROM graph.call_graph_edges "
                    "WHERE callsite_path = 'app.py' AND callee_name = 'pkg.frozen'") == [(None,)]


def test_stubs_stay_out_of_the_function_layer(indexed):
    db, got = indexed
    for name in ("analytics.function_metrics", "analytics.coverage_functions",
                 "analytics.function_history", "analytics.goid_risk_factors"):
        assert got[f"{name.replace('.', '/')}:one_row_per_function_goid"], name
        assert rows(db, f"SELECT DISTINCT rel_path FROM {name} ORDER BY 1") == \
            [("app.py",), ("pkg/_impl.py",), ("typed_only/__init__.pyi",)], name
    assert rows(db, "SELECT count(*) FROM analytics.function_types t JOIN core.goids g "
                    "USING (goid) WHERE g.shadowed_stub") == [(0,)]
    summary = rows(db, "SELECT qualname FROM docs.v_function_summary ORDER BY 1")
    assert summary == [("app.build",), ("app.seal",), ("pkg._impl.Thing.__init__",),
                       ("pkg._impl.Thing.size",), ("pkg._impl.define",), ("pkg._impl.make",),
                       ("typed_only.helper",)]


def test_symbol_uses_of_a_stub_name_the_implementation(indexed):
    db, got = indexed
    assert got["graph/symbol_use_edges:symbol_uses_name_known_goids"]
    assert rows(db, """
        SELECT count(*) FROM graph.symbol_use_edges e JOIN core.goids g ON g.goid = e.def_goid
        WHERE g.shadowed_stub""") == [(0,)]
    # app.py's uses of pkg's names: SCIP names the stub's symbols, def_goid the runtime's
    used = rows(db, """
        SELECT DISTINCT d.qualname FROM graph.symbol_use_edges e
        JOIN core.goids d ON d.goid = e.def_goid
        WHERE e.use_rel_path = 'app.py' ORDER BY 1""")
    assert used == [("app.A",), ("pkg",), ("pkg._impl.Thing",), ("pkg._impl.Thing.size",),
                    ("pkg._impl.define",), ("pkg._impl.make",), ("typed_only",),
                    ("typed_only.helper",)]
    # the stub's names the implementation binds to no definition: no def_goid. `pkg.frozen`:
    # pyrefly (the default indexer) names the runtime variable, scip-python the stub's
    # function (docs/indexers.md, "In the pipeline": stubs); a variable has no GOID either way.
    assert rows(db, r"""
        SELECT DISTINCT regexp_extract(symbol, ' ([^ ]+)$', 1), def_rel_path, def_goid
        FROM graph.symbol_use_edges
        WHERE use_rel_path = 'app.py'
          AND regexp_matches(symbol, ' (pkg/_Private#|pkg/frozen\(\)\.|`pkg._impl`/frozen\.)$')
        ORDER BY 1""") == [("`pkg._impl`/frozen.", "pkg/_impl.py", None),
                           ("pkg/_Private#", "pkg/__init__.pyi", None)]


def test_a_py_added_beside_a_stub_takes_its_rows(tmp_path):
    """The stub's rows follow the .py appearing beside it on an incremental run: its module
    name changes, so the ledger re-reads it (no full rebuild needed)."""
    repo = make_git_repo(tmp_path / "widgets", {
        "pkg/__init__.pyi": "def f(x: int) -> int: ...\n",
        "app.py": "from pkg import f\n\n\ndef g():\n    return f(1)\n"})
    db = tmp_path / "ci.duckdb"
    select = "*core/goids,analytics/function_metrics"
    metrics = "SELECT qualname, rel_path FROM analytics.function_metrics ORDER BY 1"
    assert run.materialize(select, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    assert rows(db, metrics) == [("app.g", "app.py"), ("pkg.f", "pkg/__init__.pyi")]
    write_files(repo, {"pkg/__init__.py": "def f(x):\n    return x\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "implement pkg")
    assert run.materialize(select, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    assert rows(db, metrics) == [("app.g", "app.py"), ("pkg.f", "pkg/__init__.py")]
    assert rows(db, "SELECT DISTINCT rel_path, shadowed_stub FROM core.goids ORDER BY 1") == \
        [("app.py", False), ("pkg/__init__.py", False), ("pkg/__init__.pyi", True)]
