"""callgraph: graph.call_graph_nodes and graph.call_graph_edges from real in-process runs on a
temp Git repository, with and without SCIP; the C3 MRO against Python's own `__mro__`; and a
one-file edit updating the graph after re-reading that file only. The labelled corpus and its
precision/recall live in test_callgraph_corpus.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.storage.compare import table_differences
from codeintel_assets_tests.conftest import git, make_git_repo, write_files

SELECT = "*graph/call_graph_edges,graph/call_graph_nodes"

FILES = {
    "shop/__init__.py": "from .util import helper\n",
    "shop/util.py": '''\
def helper():
    return 1


class Client:
    def get(self, key):
        return key


def _private():
    return helper()
''',
    "shop/base.py": '''\
class Base:
    def __init__(self, n):
        self.n = n

    def run(self):
        return self.step()

    def step(self):
        return 0


class Mixin:
    def step(self):
        return 1
''',
    "shop/models.py": '''\
from .base import Base, Mixin
from . import util as u
from .util import Client as C


class Order(Mixin, Base):
    handler = u.helper

    def __init__(self):
        super().__init__(1)
        self.client = C()

    def total(self):
        self.client.get("a")
        self.handler()
        return len([self.step()])

    @classmethod
    def make(cls):
        return cls()


def deco(fn):
    def wrapper(*args):
        return fn(*args)
    return wrapper


@deco
def ship(order: Order):
    order.total()
    table = {"a": u.helper}
    table["a"]()
    return Order.make()
''',
    "main.py": '''\
import os.path
import shop
from shop.models import *


def main():
    shop.helper()
    ship(Order())
    return os.path.join("a", "b")
''',
}

# (caller qualname, line, callee_name) -> (callee qualname or dotted target, resolved_via of
# the static rules)
EXPECTED = {
    ("shop.util._private", 11, "helper"): ("shop.util.helper", "module_global"),
    # Base is never instantiated, Order (its one named subclass) runs Mixin.step: the
    # dispatch edge replaces the base's (storage/call_dispatch.py)
    ("shop.base.Base.run", 6, "self.step"): ("shop.base.Mixin.step", "dispatch_self"),
    ("shop.models.Order.__init__", 10, "super().__init__"): ("shop.base.Base.__init__", "super"),
    ("shop.models.Order.__init__", 10, "super"): ("builtins.super", "builtin"),
    ("shop.models.Order.__init__", 11, "C"): ("shop.util.Client", "constructor"),
    ("shop.models.Order.total", 14, "self.client.get"): ("shop.util.Client.get",
                                                         "instance_method"),
    ("shop.models.Order.total", 15, "self.handler"): ("shop.util.helper", "instance_method"),
    ("shop.models.Order.total", 16, "self.step"): ("shop.base.Mixin.step", "self_method"),
    ("shop.models.Order.total", 16, "len"): ("builtins.len", "builtin"),
    ("shop.models.Order.make", 20, "cls"): ("shop.models.Order.__init__", "constructor"),
    ("shop.models.Order", 18, "classmethod"): ("builtins.classmethod", "builtin"),
    ("shop.models.deco.<locals>.wrapper", 25, "fn"): ("shop.models.ship", "parameter"),
    ("shop.models", 29, "deco"): ("shop.models.deco", "decorator"),
    ("shop.models.ship", 31, "order.total"): ("shop.models.Order.total", "instance_method"),
    ("shop.models.ship", 33, 'table["a"]'): ("shop.util.helper", "container_item"),
    ("shop.models.ship", 34, "Order.make"): ("shop.models.Order.make", "attribute"),
    ("main.main", 7, "shop.helper"): ("shop.util.helper", "import_alias"),
    ("main.main", 8, "ship"): ("shop.models.ship", "star_import"),
    ("main.main", 8, "Order"): ("shop.models.Order.__init__", "constructor"),
    ("main.main", 9, "os.path.join"): ("os.path.join", "external"),
}


def edges(db: Path) -> dict[tuple, tuple]:
    """Edges by (caller, line, callee_name); a decorated callee's wrapper (a second row of
    the site, resolved_via wrapper) is read by `wrappers`."""
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute("""
            SELECT c.qualname, e.callsite_line, e.callee_name,
                   coalesce(k.qualname, e.callee_target), e.resolved_via, e.kind, e.confidence,
                   e.evidence
            FROM graph.call_graph_edges e JOIN core.goids c ON c.goid = e.caller_goid
            LEFT JOIN core.goids k ON k.goid = e.callee_goid
            WHERE e.resolved_via <> 'wrapper'""").fetchall()
    return {r[:3]: r[3:] for r in got}


def wrappers(db: Path) -> set[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return set(con.execute("""
            SELECT c.qualname, e.callsite_line, k.qualname
            FROM graph.call_graph_edges e JOIN core.goids c ON c.goid = e.caller_goid
            JOIN core.goids k ON k.goid = e.callee_goid
            WHERE e.resolved_via = 'wrapper'""").fetchall())


def test_static_rules_resolve_every_call(tmp_path):
    repo = make_git_repo(tmp_path / "widgets", FILES)
    db = tmp_path / "ci.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[], console_log=False)
    assert result.success
    got = edges(db)
    assert {k: v[:2] for k, v in got.items()} == EXPECTED
    # `ship(...)` runs the wrapper @deco returned (the wrapper's own fn() is parameter flow)
    assert wrappers(db) == {("main.main", 8, "shop.models.deco.<locals>.wrapper")}
    assert all(v[2] == ("dispatch" if v[1].startswith("dispatch_") else "direct")
               for v in got.values())
    assert {v[3] for v in got.values() if v[1] not in ("builtin", "external")} <= \
        {0.6, 0.7, 0.8, 0.9}
    meta = next(m.metadata for m in result.asset_materializations_for_node("callgraph")
                if m.asset_key.path == ["graph", "call_graph_edges"])
    assert meta["resolution"].value == "static rules only (no SCIP)"
    assert meta["scip_available"].value is False
    with duckdb.connect(str(db), read_only=True) as con:
        nodes = dict(con.execute("SELECT qualname, (kind, arity, is_public) "
                                 "FROM graph.call_graph_nodes").fetchall())
    assert nodes["shop.util._private"] == ("function", 0, False)
    assert nodes["shop.models.deco.<locals>.wrapper"] == ("function", 1, False)
    assert nodes["shop.base.Base.__init__"] == ("method", 1, True)
    assert nodes["shop.models"] == ("module", None, True)
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["call_edges_reference_goids"] and checks["call_edges_resolved_share"]


def test_scip_resolves_at_the_name_token(tmp_path):
    """With SCIP, pyright's resolution comes first; every edge SCIP resolves agrees with the
    static rules' callee here."""
    repo = make_git_repo(tmp_path / "widgets", FILES)
    db = tmp_path / "ci.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=["scip"],
                             console_log=False)
    assert result.success
    got = edges(db)
    assert set(got) == set(EXPECTED)
    by_scip = {k: v for k, v in got.items() if v[1] == "scip"}
    assert len(by_scip) >= 10
    meta = next(m.metadata for m in result.asset_materializations_for_node("callgraph")
                if m.asset_key.path == ["graph", "call_graph_edges"])
    # the static rules alone give the same callee at every site SCIP resolved (Base.run's
    # self.step too, where dispatch then drops the base's edge)
    assert meta["static_agrees_with_scip"].value == len(by_scip) + 1
    assert meta["static_differs_from_scip"].value == meta["static_unresolved_at_scip"].value == 0
    for k, v in by_scip.items():
        assert v[0] == EXPECTED[k][0], k
        assert v[3] == 1.0 and json.loads(v[4])["scip_symbol"]
    # a call through a parameter is a `local` symbol to SCIP: the static rules resolve it
    assert got[("shop.models.deco.<locals>.wrapper", 25, "fn")][:2] == ("shop.models.ship",
                                                                        "parameter")


MRO_FILES = {
    "h/__init__.py": "",
    "h/a.py": "class O:\n    pass\n\n\nclass A(O):\n    pass\n\n\nclass B(O):\n    pass\n",
    "h/b.py": '''\
from h.a import A, B, O
import h.a as ha


class C(A, B):
    pass


class D(B, ha.O):
    pass


class E(C, D):
    def go(self):
        return self.who()


class F(D, A):
    pass
''',
}


def test_mro_equals_pythons(tmp_path):
    """The linker's C3 linearisation (from ast_nodes.bases) equals CPython's __mro__."""
    repo = make_git_repo(tmp_path / "mro", MRO_FILES)
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    from codeintel_assets.storage import callgraph
    from codeintel_assets.storage.gateway import StorageGateway

    gateway = StorageGateway(str(db))
    with gateway.connect() as con:
        goids = con.sql(callgraph.GOIDS_SQL, params={"repo": "acme/widgets"}).to_arrow_table()
        facts = con.sql(callgraph.FACTS_SQL, params={"repo": "acme/widgets"}).fetchall()
        imports = con.sql(callgraph.IMPORTS_SQL, params={"repo": "acme/widgets"}).fetchall()
    linker = callgraph._linker(goids.to_pylist(), facts, imports)
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import h.b as m; "
              "print(json.dumps({c: [k.__module__ + '.' + k.__qualname__ for k in "
              "getattr(m, c).__mro__ if k is not object] for c in 'CDEF'}))")
    python = json.loads(subprocess.run([sys.executable, "-c", script, str(repo)], check=True,
                                       capture_output=True, text=True).stdout)
    assert {c: linker.mro(f"h.b.{c}") for c in "CDEF"} == python


def test_one_file_edit_rereads_that_file(tmp_path):
    """A one-file edit re-extracts that file; an override added in one file changes the
    edges of another."""
    repo = make_git_repo(tmp_path / "widgets", FILES)
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    write_files(repo, {"shop/util.py": FILES["shop/util.py"] + "\n\ndef extra():\n"
                                                                "    return _private()\n"})
    git(repo, "commit", "-qam", "edit")
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                             console_log=False)
    assert result.success
    sites = next(m.metadata for m in result.asset_materializations_for_node("repo_scan")
                 if m.asset_key.path == ["core", "call_sites"])
    assert sites["files_extracted"].value == 1
    got = edges(db)
    assert got[("shop.util.extra", 15, "_private")][:2] == ("shop.util._private",
                                                             "module_global")
    assert {k: v[:2] for k, v in got.items() if k[0] != "shop.util.extra"} == EXPECTED
    # A new override in a subclass (shop/models.py) changes the dispatch edge at a call site
    # in the base class's file (shop/base.py, not edited): the push rewrites the edges of
    # both files, keeps the others', and equals a full rebuild.
    write_files(repo, {"shop/models.py": FILES["shop/models.py"].replace(
        "    @classmethod", "    def step(self):\n        return 2\n\n    @classmethod")})
    git(repo, "commit", "-qam", "override step")
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                             console_log=False)
    meta = next(m.metadata for m in result.asset_materializations_for_node("callgraph")
                if m.asset_key.path == ["graph", "call_graph_edges"])
    assert (meta["update"].value, meta["files_rewritten"].value) == ("incremental", 2)
    assert meta["reason"].value == "2 of 4 files' edges changed, 0 files gone"
    assert edges(db)[("shop.base.Base.run", 6, "self.step")][:2] == \
        ("shop.models.Order.step", "dispatch_self")
    full = tmp_path / "full.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(full), tools=[],
                           console_log=False).success
    assert table_differences(db, full, ["graph.call_graph_edges",
                                        "graph.call_graph_nodes"]) == {}


@pytest.mark.parametrize("source", ["def f(:\n", "x = (\n"])
def test_unparsable_file_is_recorded_not_fatal(tmp_path, source):
    repo = make_git_repo(tmp_path / "widgets", {**FILES, "shop/broken.py": source})
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    assert {k: v[:2] for k, v in edges(db).items()} == EXPECTED


SCOPES = '''\
def handler():
    return 0


def custom():
    return 1


def outer():
    def cb():
        return 2

    def inner():
        nonlocal cb
        cb()
    return inner


def install():
    global handler
    handler = custom


def run(command, funcs):
    match command:
        case str() as handler:
            handler()
    [f for f in (custom,)]
    f()
    g = lambda handler: handler()
    return g
''' + "\n\ndef chain(x):\n    q = x" + ".f()" * 400 + "\n    return q\n"

# (caller, line, callee_name) -> (callee, resolved_via, kind)
SCOPE_EDGES = {
    ("m.outer.<locals>.inner", 15, "cb"): ("m.outer.<locals>.cb", "enclosing_scope", "direct"),
    ("m.run", 27, "handler"): (None, "unknown", "unresolved"),   # a match capture
    ("m.run", 29, "f"): (None, "unknown", "unresolved"),         # the comprehension's f is gone
    ("m.run", 30, "handler"): (None, "unknown", "unresolved"),   # the lambda's parameter
}


def test_scopes_python_has_and_long_chains(tmp_path):
    """nonlocal reaches the enclosing def, global rebinds the module's name (so `handler`
    has two disagreeing bindings), match captures, comprehension variables and lambda
    parameters shadow only where Python scopes them, and a 400-call chain neither loses the
    file nor recurses."""
    repo = make_git_repo(tmp_path / "widgets", {"m.py": SCOPES})
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    got = edges(db)
    assert {k: (v[0], v[1], v[2]) for k, v in got.items() if k in SCOPE_EDGES} == SCOPE_EDGES
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), max(length(callee_name)) FROM core.call_sites "
                           "WHERE caller_qualname = 'm.chain'").fetchall() == [(400, 200)]
        aliases = con.execute("SELECT qualname FROM core.definition_refs "
                              "WHERE rel_path = 'm.py' AND kind = 'alias'").fetchall()
    assert aliases == []  # `handler = custom` in install() is no module-level assignment


OVERLOAD_FILES = {
    "ov/__init__.py": "",
    "ov/api.py": '''\
import typing
from typing import overload

import typing_extensions as te


@overload
def command(name: str) -> int: ...
@typing.overload
def command(name: None = None) -> str: ...
def command(name=None):
    return 1 if name else "x"


class Base:
    @te.overload
    def get(self, key: int) -> int: ...
    @te.overload
    def get(self, key: str) -> str: ...
    def get(self, key):
        return key
''',
    "ov/use.py": '''\
from ov.api import Base, command


def main():
    command("a")
    return Base().get(1)
''',
}


ALIASES = {
    "lib/__init__.py": '''\
from ._make import Api, attrib, attrs

s = attributes = attrs
ib = attr = attrib
first, second = attrs, attrib
HANDLERS = {"a]b": attrs, "c": attrib}  # a key holding `]`, read in another module
''',
    "lib/_make.py": '''\
def attrs(maybe_cls=None):
    return maybe_cls


def attrib(default=None):
    return default


class Api:
    def run(self):
        return 1

    go = start = run
''',
    "user.py": '''\
import lib
from lib import HANDLERS, attributes, s


def use():
    s(1)
    attributes(2)
    lib.ib(3)
    lib.attr(4)
    lib.first()
    lib.second()
    lib.Api().start()
    HANDLERS["a]b"]()
''',
}


@pytest.mark.parametrize("tools", [[], ["scip"]], ids=["static", "scip"])
def test_overloaded_calls_reach_the_implementation(tmp_path, tools):
    """`who calls command?` names the implementation, which has the plain qualname (issue 28:
    click's `decorators.command` implementation was `command#3`), whether the static rules or
    pyright (whose SCIP symbol's definition is the first signature) resolve the call; the signatures
    never run, so they have no function metrics and the one-row-per-function checks hold."""
    repo = make_git_repo(tmp_path / "ov", OVERLOAD_FILES)
    db = tmp_path / "ci.duckdb"
    result = run.materialize(f"{SELECT},analytics/function_metrics", target=str(repo),
                             db=str(db), tools=tools, console_log=False)
    assert result.success
    got = edges(db)
    assert got[("ov.use.main", 5, "command")][0] == "ov.api.command"
    assert got[("ov.use.main", 6, "Base().get")][0] == "ov.api.Base.get"
    if tools:
        assert got[("ov.use.main", 5, "command")][1] == "scip"
    with duckdb.connect(str(db), read_only=True) as con:
        flagged = con.execute("SELECT qualname FROM core.goids WHERE is_overload "
                              "ORDER BY qualname").fetchall()
        measured = {q for (q,) in con.execute(
            "SELECT qualname FROM analytics.function_metrics").fetchall()}
    assert flagged == [("ov.api.Base.get#overload1",), ("ov.api.Base.get#overload2",),
                       ("ov.api.command#overload1",), ("ov.api.command#overload2",)]
    assert measured == {"ov.api.command", "ov.api.Base.get", "ov.use.main"}
    checks = {(c.asset_key.to_user_string(), c.check_name): c.passed
              for c in result.get_asset_check_evaluations()}
    assert checks[("analytics/function_metrics", "one_row_per_function_goid")]


def test_chained_and_tuple_assignments_alias_every_target(tmp_path):
    """`s = attributes = attrs` (attrs' own API) and `a, b = f, g` make one alias per target
    name, at module and class level, so calls from another module resolve to the function."""
    repo = make_git_repo(tmp_path / "widgets", ALIASES)
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    got = {k[2]: v[0] for k, v in edges(db).items() if k[0] == "user.use"}
    assert got == {"s": "lib._make.attrs", "attributes": "lib._make.attrs",
                   "lib.ib": "lib._make.attrib", "lib.attr": "lib._make.attrib",
                   "lib.first": "lib._make.attrs", "lib.second": "lib._make.attrib",
                   "lib.Api": "lib._make.Api", "lib.Api().start": "lib._make.Api.run",
                   'HANDLERS["a]b"]': "lib._make.attrs"}


def test_branch_facts_decide_versions_and_return_conditions():
    """call_branches on its own (no repository): a version test is decided against the running
    interpreter, any other test is not; a later definition in the same or an enclosing block
    kills an earlier one; returns carry the constant-argument conditions of their branch."""
    import ast

    from codeintel_assets.extract import call_branches

    def test_of(src):
        return ast.parse(src).body[0].test

    assert call_branches.decided(test_of("if sys.version_info >= (3, 8): pass")) is True
    assert call_branches.decided(test_of("if sys.version_info[0] == 2: pass")) is False
    assert call_branches.decided(test_of("if not sys.version_info[:2] < (3, 6): pass")) is True
    assert call_branches.decided(test_of("if sys.version_info >= (3, 8) and FLAG: pass")) is None
    assert call_branches.decided(test_of("if FLAG: pass")) is None
    body = ast.parse("def f(): pass\nif FLAG:\n    def g(): pass\nelse:\n    def g(): pass\n"
                     "def f(): pass\nif sys.version_info < (3,):\n    def h(): pass\n"
                     "else:\n    def h(): pass\ndef h(): pass\n").body
    live = call_branches.live_definitions(body)
    assert {n: [d.lineno for d in ds] for n, ds in live.items()} == {
        "f": [6], "g": [3, 5], "h": [11]}
    fn = ast.parse("def pick(kind, x):\n    if kind == 'a':\n        return A\n"
                   "    elif kind == 'b':\n        return B\n    return C\n").body[0]
    guards = call_branches.return_guards(fn, ["kind", "x"])
    returned = {r.value.id: guards.get(id(r.value)) for r in ast.walk(fn)
                if isinstance(r, ast.Return)}
    assert returned["A"] == [{"param": "kind", "index": 0, "eq": "a"}]
    assert returned["B"] == [{"param": "kind", "index": 0, "ne": "a"},
                             {"param": "kind", "index": 0, "eq": "b"}]
    assert returned["C"] == [{"param": "kind", "index": 0, "ne": "a"},
                             {"param": "kind", "index": 0, "ne": "b"}]


def _file_rows(source: str) -> dict[str, list[dict]]:
    """extract/python_ast.ast_rows of one module `m.py` (no repository, no DuckDB)."""
    import ast

    from codeintel_assets.extract.parallel import FileJob
    from codeintel_assets.extract.python_ast import ast_rows

    job = FileJob("r", "c", "m.py", "/nonexistent/m.py", "m")
    return ast_rows(job, source, ast.parse(source))


def test_long_operator_chain_keeps_the_file():
    """`a + a + ... + a` in 2000 terms (Python 3.11 parses no 3000-term chain) neither recurses
    nor walks the chain once per operation: the file's rows come back, fast, with the
    dunder call of the chain's first operations."""
    import time

    source = ("class A:\n    def __add__(self, o):\n        return self\n\n\n"
              "def f(a: A):\n    return " + " + ".join(["a"] * 2000) + "\n")
    start = time.perf_counter()
    rows = _file_rows(source)
    assert time.perf_counter() - start < 2.0
    (site,) = rows["core.call_sites"]
    assert site["caller_qualname"] == "m.f"
    assert {r["attr"] for r in json.loads(site["refs"])} >= {"().__add__()", "()"}


def test_branch_defs_and_an_assignment_make_one_alias_row():
    """A name defined in two branches and assigned in a third has one alias row (the table's
    key) naming all three; a def after an assignment kills it (no alias row)."""
    rows = _file_rows("def g(): ...\nif A:\n    def f(): ...\nelif B:\n    def f(): ...\n"
                      "else:\n    f = g\nh = g\ndef h(): ...\n")["core.definition_refs"]
    keys = [(r["qualname"], r["kind"]) for r in rows]
    assert len(keys) == len(set(keys))
    aliases = {r["qualname"]: {v["ref"] for v in json.loads(r["value_refs"])}
               for r in rows if r["kind"] == "alias"}
    assert aliases == {"m.f": {"m.f", "m.f#2", "m.g"}}


def test_an_assignment_after_isinstance_narrowing_wins():
    """`assert isinstance(x, Node)` narrows x to the scope's end, but `x = Leaf()` after it
    rebinds x: the call after that is Leaf's."""
    rows = _file_rows("class Node:\n    def run(self): ...\nclass Leaf(Node):\n"
                      "    def run(self): ...\ndef f(x):\n    assert isinstance(x, Node)\n"
                      "    x.run()\n    x = Leaf()\n    x.run()\n")["core.call_sites"]
    refs = {r["line"]: {v["ref"] for v in json.loads(r["refs"])} for r in rows
            if r["callee_name"] == "x.run"}
    assert refs == {7: {"m.Node"}, 9: {"m.Leaf"}}


def test_getattr_patterns_need_a_specific_name():
    """`getattr(self, "visit_" + k)` is a pattern; `"_" + k` and f"{kind}_{a}" name no family
    of methods (no pattern); storage/call_dispatch reaches no dunder through one, and none at
    all through a pattern fitting more than 32 methods."""
    from decimal import Decimal

    from codeintel_assets.storage.call_dispatch import Dispatch
    from codeintel_assets.storage.call_linker import DefFacts
    from codeintel_assets.storage.call_points import FlowLinker

    rows = _file_rows("class C:\n    def run(self, k, a):\n        getattr(self, 'visit_' + k)()\n"
                      "        getattr(self, '_' + k)()\n        getattr(self, f'{k}_{a}')()\n"
                      "        getattr(self, f'{k}_handler')()\n")["core.call_sites"]
    patterns = {r["line"]: [v.get("pattern") for v in json.loads(r["refs"])] for r in rows
                if r["callee_name"].startswith("getattr(")}
    assert patterns == {3: ["visit_*"], 4: [], 5: [], 6: ["*_handler"]}

    names = ["visit_a", "visit_b", "__init__", "__visit_x__"] + [f"on_{i}" for i in range(40)]
    defs = {"m": (Decimal(1), "module"), "m.C": (Decimal(2), "class")}
    defs.update({f"m.C.{n}": (Decimal(10 + i), "method") for i, n in enumerate(names)})
    dispatch = Dispatch(FlowLinker(defs, {"m.C": DefFacts([], None, None)}, {}, {}, {"m"}))

    def reached(pattern: str) -> list[str]:
        ref = {"ref": "m.C", "mode": "value", "attr": "()", "via": "getattr_pattern",
               "pattern": pattern}
        return sorted(c.target for c in dispatch._patterned([ref]))

    assert reached("*visit*") == ["m.C.visit_a", "m.C.visit_b"]
    assert reached("on_*") == []


def _dispatch_of(classes: dict[str, list[str]], methods: list[str], abstract=frozenset()):
    """A call_dispatch.Dispatch over module `m`'s `classes` (name -> base names) and
    `methods` ("Class.name"), no DuckDB."""
    from decimal import Decimal

    from codeintel_assets.storage.call_dispatch import Dispatch
    from codeintel_assets.storage.call_linker import DefFacts
    from codeintel_assets.storage.call_points import FlowLinker

    defs = {"m": (Decimal(1), "module")}
    defs.update({f"m.{c}": (Decimal(len(defs) + 1), "class") for c in classes})
    defs.update({f"m.{q}": (Decimal(len(defs) + 1 + i), "method") for i, q in enumerate(methods)})
    facts = {f"m.{c}": DefFacts([[{"ref": f"m.{b}", "mode": "value", "attr": "",
                                   "via": "local_name", "exact": True}] for b in bases],
                                None, None) for c, bases in classes.items()}
    return Dispatch(FlowLinker(defs, facts, {}, {}, {"m"}), abstract=frozenset(abstract))


def test_dispatch_keeps_the_base_edge_an_unnamed_subclass_inherits():
    """`x: Base; x.m()`, Base.m overridden by the named A: an unnamed subclass F (a framework
    makes it) inherits Base.m, so that edge stays, unless Base.m is abstract; with every
    subclass overriding m it goes; past 64 overrides the site keeps Base.m alone, saying so."""
    site = [{"ref": "m.Base", "mode": "value", "attr": "().m", "via": "instance_method",
             "typed": "annotation"}]

    def run(dispatch):
        dispatch.named = {"m.A"}
        reached, drop, capped = dispatch._dispatch(site, None, "x.m")
        return sorted(c.target for c in reached), len(drop), capped

    classes = {"Base": [], "A": ["Base"], "F": ["Base"]}
    assert run(_dispatch_of(classes, ["Base.m", "A.m"])) == (["m.A.m"], 0, {})
    assert run(_dispatch_of(classes, ["Base.m", "A.m"], {"m.Base.m"})) == (["m.A.m"], 1, {})
    assert run(_dispatch_of(classes, ["Base.m", "A.m", "F.m"])) == (["m.A.m"], 1, {})
    many = {"Base": [], **{f"S{i}": ["Base"] for i in range(70)}}
    dispatch = _dispatch_of(many, ["Base.m", *(f"S{i}.m" for i in range(70))])
    reached, drop, capped = dispatch._dispatch(site, None, "x.m")
    assert (reached, drop) == ([], set())
    assert list(capped.values()) == ["70 overrides left out (more than 64)"]


def test_abstract_methods_get_a_row():
    """core.definition_refs kind abstract: `@abc.abstractmethod`, a body of a docstring and
    `...`, or `raise NotImplementedError(...)`; a method with a real body has none."""
    rows = _file_rows("import abc\nclass B:\n    @abc.abstractmethod\n    def a(self): return 1\n"
                      "    def b(self):\n        'doc'\n        ...\n"
                      "    def c(self): raise NotImplementedError('x')\n"
                      "    def d(self): return 2\n")["core.definition_refs"]
    assert sorted(r["qualname"] for r in rows if r["kind"] == "abstract") == [
        "m.B.a", "m.B.b", "m.B.c"]


TYPE_ALIASES = {"pkg/__init__.py": "", "pkg/nodes.py": '''from typing import Optional, Union


class Base:
    def __new__(cls, *args):
        return super().__new__(cls)


class Leaf(Base):
    @property
    def prefix(self):
        return ""

    def __str__(self):
        return "leaf"


class Node:
    @property
    def prefix(self):
        return ""


LN = Union[Leaf, Node]
NL = Leaf | Node
MaybeLeaf = Optional[Leaf]


def p(x: LN):
    return x.prefix


class Tree:
    root: Optional[Leaf] = None
    children: list[LN] = []
''', "pkg/use.py": '''from pkg.nodes import LN, NL, Leaf, MaybeLeaf, Tree


def f(x: LN):
    return x.prefix


def g(x: NL):
    return x.prefix


def h(x: MaybeLeaf):
    return str(x)


def k(t: Tree):
    return t.root.prefix


def m(t: Tree):
    return str(t.children[0])


def n():
    return Leaf()
'''}


def test_an_annotation_through_a_union_type_alias_reaches_each_class(tmp_path):
    """black's `LN = Union[Leaf, Node]` (also `A | B`, `Optional[A]`), imported or in its own
    module and used as an annotation: a property read reaches each class's getter, `str(x)`
    the class's __str__; class attributes declared `Optional[Leaf]` and `list[LN]` type
    `t.root` and `t.children[0]` in another module; `Leaf()` runs Base.__new__ too."""
    repo = make_git_repo(tmp_path / "aliases", TYPE_ALIASES)
    db = tmp_path / "ta.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "SELECT c.qualname, d.qualname, e.resolved_via FROM graph.call_graph_edges e "
            "JOIN core.goids c ON c.goid = e.caller_goid "
            "JOIN core.goids d ON d.goid = e.callee_goid "
            "WHERE c.qualname LIKE 'pkg.use.%' OR c.qualname = 'pkg.nodes.p' "
            "ORDER BY 1, 2").fetchall()
    assert got == [("pkg.nodes.p", "pkg.nodes.Leaf.prefix", "property"),
                   ("pkg.nodes.p", "pkg.nodes.Node.prefix", "property"),
                   ("pkg.use.f", "pkg.nodes.Leaf.prefix", "property"),
                   ("pkg.use.f", "pkg.nodes.Node.prefix", "property"),
                   ("pkg.use.g", "pkg.nodes.Leaf.prefix", "property"),
                   ("pkg.use.g", "pkg.nodes.Node.prefix", "property"),
                   ("pkg.use.h", "pkg.nodes.Leaf.__str__", "operator"),
                   ("pkg.use.k", "pkg.nodes.Leaf.prefix", "property"),
                   ("pkg.use.m", "pkg.nodes.Leaf.__str__", "operator"),
                   ("pkg.use.n", "pkg.nodes.Base.__new__", "constructor_new"),
                   ("pkg.use.n", "pkg.nodes.Leaf", "constructor")]


def test_a_site_with_many_callees_names_a_bounded_few_in_each_rows_evidence(tmp_path):
    """Twenty functions passed to one parameter: twenty rows at the site inside `apply`, and
    each row's evidence names the first EVIDENCE_CANDIDATES of them plus the count, not all
    twenty (a django site had 857 rows listing 857 names each)."""
    from codeintel_assets.storage.call_edges import EVIDENCE_CANDIDATES

    names = [f"f{i:02}" for i in range(20)]
    source = "".join(f"def {n}():\n    return {i}\n\n\n" for i, n in enumerate(names))
    source += "def apply(fn):\n    return fn()\n\n\n" + "".join(
        f"apply({n})\n" for n in names)
    repo = make_git_repo(tmp_path / "widgets", {"m.py": source})
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""
            SELECT k.qualname, e.resolved_via, e.evidence
            FROM graph.call_graph_edges e JOIN core.goids c ON c.goid = e.caller_goid
            JOIN core.goids k ON k.goid = e.callee_goid
            WHERE c.qualname = 'm.apply' ORDER BY 1""").fetchall()
    assert [r[0] for r in rows] == [f"m.{n}" for n in names]
    for _, via, evidence in rows:
        assert via == "parameter_any"
        assert json.loads(evidence)["candidates"] == \
            [f"m.{n}" for n in names][:EVIDENCE_CANDIDATES]
        assert json.loads(evidence)["candidate_count"] == 20
