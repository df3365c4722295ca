"""symbol_uses: graph.symbol_use_edges from a real in-process run (the symbol indexer on a temp Git
repository) against uses counted by hand, and the empty table when SCIP is disabled."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from codeintel_assets import run
from codeintel_assets.storage import queries
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets_tests.conftest import make_git_repo, rows

SELECT = "*graph/symbol_use_edges"

FILES = {
    "pkg/__init__.py": "",
    "pkg/deco.py": "def traced(fn):\n    wrapped = fn\n    return wrapped\n",
    "pkg/core.py": '''from pkg.deco import traced

LIMIT = 10


@traced
def double(x):
    return x * 2 + LIMIT


class Greeter:
    def greet(self, name):
        return double(len(name))

    def twice(self, name):
        return self.greet(name) + self.greet(name)


class Box:
    @property
    def size(self):
        return 1

    @size.setter
    def size(self, value):
        pass
''',
    "pkg/app.py": '''from pkg.core import Box, Greeter, double


def run():
    def inner(v):
        return double(v)
    return Greeter().greet(str(inner(21)))


VALUE = double(1)
BOX_SIZE = Box().size
''',
}

# (symbol without its package prefix, use_rel_path, use qualname):
#     (def_rel_path, def qualname (NULL for variables and parameters), use_count, same_file,
#      same_module)
# Counted from FILES: imports are uses (pkg/app.py line 1 names pkg.core, Greeter and double);
# definitions are not (VALUE, LIMIT, every def's name token); the decorator @traced (core.py
# line 6) lies before double's `def` line, so it is a use by the module; `str` is a builtin
# (not the repository's); greet's `self` is never read (no row); `wrapped` in deco.py is a local
# (`local N`): left out; so is the `len` of core.py line 13, a builtin for pyrefly and `local 0`
# for scip-python 0.6 (docs/indexers.md C2). Box.size: `@size.setter` is
# a use by the class (a decorator line); the setter's own name token is an occurrence of the
# getter's symbol without the definition role, yet a definition (core.goids' size#2), not a use;
# both GOIDs carry the symbol in the crosswalk, and def_goid is the getter's, whose name token
# is the symbol's definition. The setter's `self` and `value` are never read.
EXPECTED = {
    ("`pkg.deco`/__init__:", "pkg/core.py", "pkg.core"): ("pkg/deco.py", "pkg.deco", 1, False, False),
    ("`pkg.deco`/traced().", "pkg/core.py", "pkg.core"): ("pkg/deco.py", "pkg.deco.traced", 2, False, False),
    ("`pkg.deco`/traced().(fn)", "pkg/deco.py", "pkg.deco.traced"): ("pkg/deco.py", None, 1, True, True),
    ("`pkg.core`/LIMIT.", "pkg/core.py", "pkg.core.double"): ("pkg/core.py", None, 1, True, True),
    ("`pkg.core`/double().(x)", "pkg/core.py", "pkg.core.double"): ("pkg/core.py", None, 1, True, True),
    ("`pkg.core`/double().", "pkg/core.py", "pkg.core.Greeter.greet"): ("pkg/core.py", "pkg.core.double", 1, True, True),
    ("`pkg.core`/Greeter#greet().(name)", "pkg/core.py", "pkg.core.Greeter.greet"): ("pkg/core.py", None, 1, True, True),
    ("`pkg.core`/Greeter#greet().", "pkg/core.py", "pkg.core.Greeter.twice"): ("pkg/core.py", "pkg.core.Greeter.greet", 2, True, True),
    ("`pkg.core`/Greeter#twice().(self)", "pkg/core.py", "pkg.core.Greeter.twice"): ("pkg/core.py", None, 2, True, True),
    ("`pkg.core`/Greeter#twice().(name)", "pkg/core.py", "pkg.core.Greeter.twice"): ("pkg/core.py", None, 2, True, True),
    ("`pkg.core`/__init__:", "pkg/app.py", "pkg.app"): ("pkg/core.py", "pkg.core", 1, False, False),
    ("`pkg.core`/Greeter#", "pkg/app.py", "pkg.app"): ("pkg/core.py", "pkg.core.Greeter", 1, False, False),
    ("`pkg.core`/Box#", "pkg/app.py", "pkg.app"): ("pkg/core.py", "pkg.core.Box", 2, False, False),
    ("`pkg.core`/Box#size().", "pkg/app.py", "pkg.app"): ("pkg/core.py", "pkg.core.Box.size", 1, False, False),
    ("`pkg.core`/Box#size().", "pkg/core.py", "pkg.core.Box"): ("pkg/core.py", "pkg.core.Box.size", 1, True, True),
    ("`pkg.core`/double().", "pkg/app.py", "pkg.app"): ("pkg/core.py", "pkg.core.double", 2, False, False),
    ("`pkg.app`/run().inner().(v)", "pkg/app.py", "pkg.app.run.<locals>.inner"): ("pkg/app.py", None, 1, True, True),
    ("`pkg.core`/double().", "pkg/app.py", "pkg.app.run.<locals>.inner"): ("pkg/core.py", "pkg.core.double", 1, False, False),
    ("`pkg.app`/run().inner().", "pkg/app.py", "pkg.app.run"): ("pkg/app.py", "pkg.app.run.<locals>.inner", 1, True, True),
    ("`pkg.core`/Greeter#", "pkg/app.py", "pkg.app.run"): ("pkg/core.py", "pkg.core.Greeter", 1, False, False),
    ("`pkg.core`/Greeter#greet().", "pkg/app.py", "pkg.app.run"): ("pkg/core.py", "pkg.core.Greeter.greet", 1, False, False),
}

PREFIX = re.compile(r"^scip-python python acme/widgets \. ")

EDGES_SQL = """
SELECT e.symbol, e.use_rel_path, u.qualname, e.def_rel_path, d.qualname, e.use_count,
       e.same_file, e.same_module
FROM graph.symbol_use_edges e
JOIN core.goids u ON u.repo = e.repo AND u.goid = e.use_goid
LEFT JOIN core.goids d ON d.repo = e.repo AND d.goid = e.def_goid
WHERE e.repo = 'acme/widgets'
"""


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("symbol_uses")
    repo = make_git_repo(tmp / "widgets", FILES)
    db = tmp / "ci.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=["scip"],
                             console_log=False)
    assert result.success
    checks = {e.event_specific_data.asset_check_key.name: e.event_specific_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.asset_key.to_user_string() == "graph/symbol_use_edges"}
    assert checks == {"primary_key_unique_not_null": True, "symbol_uses_name_known_goids": True}
    return db


def test_symbol_use_edges_match_hand_counts(indexed):
    got = {(PREFIX.sub("", r[0]), r[1], r[2]): r[3:] for r in rows(indexed, EDGES_SQL)}
    assert got == EXPECTED
    # Every non-definition occurrence of an in-repository symbol is in a row but one: the
    # setter's name token.
    assert rows(indexed, """
        SELECT count(*) FROM core.scip_occurrences o JOIN core.scip_symbols s USING (repo, symbol)
        WHERE NOT o.is_definition AND s.def_rel_path IS NOT NULL AND NOT s.is_local""") == \
        rows(indexed, "SELECT sum(use_count) + 1 FROM graph.symbol_use_edges")
    # The indexer does produce `local` occurrences here (`wrapped`); none becomes an edge.
    assert rows(indexed, "SELECT count(*) > 0 FROM core.scip_occurrences "
                         "WHERE starts_with(symbol, 'local ')") == [(True,)]
    assert rows(indexed, "SELECT count(*) FROM graph.symbol_use_edges "
                         "WHERE starts_with(symbol, 'local ')") == [(0,)]
    head = rows(indexed, 'SELECT DISTINCT "commit" FROM core.scip_occurrences')
    assert rows(indexed, 'SELECT DISTINCT "commit" FROM graph.symbol_use_edges') == head


def test_symbol_uses_empty_without_scip(tmp_path):
    repo = make_git_repo(tmp_path / "widgets", FILES)
    db = tmp_path / "ci.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[], console_log=False)
    assert result.success
    assert rows(db, "SELECT count(*) FROM graph.symbol_use_edges") == [(0,)]
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == "graph/symbol_use_edges"]
    metadata = event.materialization.metadata
    assert "scip-python disabled" in metadata["skipped"].value
    assert metadata["uses"].value == 0


def test_unknown_goids_are_counted(indexed, tmp_path):
    """The check's query on a copy whose edges name a GOID core.goids lacks."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(indexed, db)
    gateway = StorageGateway(db)
    edges = gateway.read_table(table("graph.symbol_use_edges"), "acme/widgets")
    bogus = pa.array([Decimal(7)] * len(edges), pa.decimal128(38, 0))
    edges = edges.set_column(edges.schema.get_field_index("use_goid"), "use_goid", bogus)
    gateway.replace_repo_rows(table("graph.symbol_use_edges"), "acme/widgets", edges.slice(0, 2))
    unknown = queries.symbol_use_unknown_goids(gateway, "acme/widgets")
    assert (unknown.edges, unknown.unknown_use_goid, unknown.passed) == (2, 2, False)
