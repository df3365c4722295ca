"""graph_metrics: a real in-process run (scip-python, the call graph, the import graph, symbol
uses) on a temp Git repository; counts by hand, centralities against networkx on the stored edge
lists, the checks, a second run giving the same rows, and docs.v_call_graph_enriched."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from codeintel_assets import run
from codeintel_assets_tests.conftest import checks, make_git_repo, rows
from codeintel_assets_tests.test_graph_measures import pagerank_power

METRICS = "analytics/graph_metrics_functions,analytics/graph_metrics_modules,analytics/graph_stats"
SELECT = ",".join(f"*{k}" for k in METRICS.split(",")) + ",docs/v_call_graph_enriched"

FILES = {
    "pkg/__init__.py": "from pkg.util import helper\n",
    "pkg/util.py": '''def helper(x):
    return fact(x)


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def ping(n):
    return pong(n - 1) if n else 0


def pong(n):
    return ping(n - 1) if n else 1
''',
    "pkg/a.py": '''from pkg import b
from pkg.util import helper


def run():
    return helper(2) + b.go()
''',
    "pkg/b.py": '''import pkg.a
from pkg.util import ping


def go():
    return ping(3)


def again():
    return pkg.a.run()
''',
}

# qualname: fan_in, fan_out, in_degree, out_degree, component_size, in_cycle, layer
# Calls: helper->fact, fact->fact, ping->pong, pong->ping, run->helper, run->go, go->ping,
# again->run. fact calls itself (in_cycle alone); ping and pong are one component.
FUNCTIONS = {
    "pkg": (0, 0, 0, 0, 1, False, 0),
    "pkg.util": (0, 0, 0, 0, 1, False, 0),
    "pkg.a": (0, 0, 0, 0, 1, False, 0),
    "pkg.b": (0, 0, 0, 0, 1, False, 0),
    "pkg.util.helper": (1, 1, 1, 1, 1, False, 1),
    "pkg.util.fact": (2, 1, 2, 1, 1, True, 0),
    "pkg.util.ping": (2, 1, 2, 1, 2, True, 0),
    "pkg.util.pong": (1, 1, 1, 1, 2, True, 0),
    "pkg.a.run": (1, 2, 1, 2, 1, False, 2),
    "pkg.b.go": (1, 1, 1, 1, 1, False, 1),
    "pkg.b.again": (0, 1, 0, 1, 1, False, 3),
}

TABLES = ("analytics.graph_metrics_functions", "analytics.graph_metrics_modules",
          "analytics.graph_stats")


@pytest.fixture(scope="module")
def materialized(tmp_path_factory) -> tuple[Path, Path, object]:
    tmp = tmp_path_factory.mktemp("graph_metrics")
    repo = make_git_repo(tmp / "widgets", FILES)
    db = tmp / "ci.duckdb"
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=["scip"],
                             console_log=False)
    assert result.success
    return repo, db, result


def test_function_metrics(materialized):
    _, db, result = materialized
    got = {r[0]: r[1:] for r in rows(db, """
        SELECT n.qualname, m.fan_in, m.fan_out, m.in_degree, m.out_degree, m.component_size,
               m.in_cycle, m.layer
        FROM analytics.graph_metrics_functions m
        JOIN graph.call_graph_nodes n USING (repo, goid)""")}
    assert got == FUNCTIONS
    # Centralities against networkx on the stored edges (distinct, no self-loops).
    goids = [r[0] for r in rows(db, "SELECT goid FROM graph.call_graph_nodes ORDER BY goid")]
    index = {g: i for i, g in enumerate(goids)}
    edges = sorted({(index[a], index[b]) for a, b in rows(
        db, "SELECT caller_goid, callee_goid FROM graph.call_graph_edges "
            "WHERE callee_goid IS NOT NULL") if a != b})
    g = nx.DiGraph()
    g.add_nodes_from(range(len(goids)))
    g.add_edges_from(edges)
    stored = rows(db, "SELECT pagerank, betweenness, closeness, betweenness_method "
                      "FROM analytics.graph_metrics_functions ORDER BY goid")
    between, close = nx.betweenness_centrality(g), nx.closeness_centrality(g)
    assert [r[0] for r in stored] == pytest.approx(pagerank_power(len(goids), edges), abs=1e-9)
    assert [r[1] for r in stored] == pytest.approx([between[i] for i in range(len(goids))])
    assert [r[2] for r in stored] == pytest.approx([close[i] for i in range(len(goids))])
    assert {r[3] for r in stored} == {"exact"}
    assert checks(result)["analytics/graph_metrics_functions:one_row_per_graph_node"]


def test_module_metrics_and_stats(materialized):
    _, db, result = materialized
    modules = {r[0]: r[1:] for r in rows(db, """
        SELECT m.module, m.import_fan_in, m.import_fan_out, m.scc_id, m.in_cycle, m.layer,
               i.fan_in, i.fan_out, i.scc_id, i.in_cycle, i.layer
        FROM analytics.graph_metrics_modules m JOIN graph.import_modules i USING (repo, module)""")}
    assert sorted(modules) == ["pkg", "pkg.a", "pkg.b", "pkg.util"]
    for module, r in modules.items():
        assert r[:5] == r[5:], module  # graph.import_modules' own values
    assert modules["pkg.a"][3] and modules["pkg.b"][3] and not modules["pkg.util"][3]
    symbol = {r[0]: r[1:] for r in rows(
        db, "SELECT module, symbol_fan_in, symbol_fan_out FROM analytics.graph_metrics_modules")}
    # pkg.util's symbols are used by pkg (helper), pkg.a (helper) and pkg.b (ping); it uses
    # no other module's. The rest from the stored symbol uses, counted here in Python.
    assert symbol["pkg.util"] == (3, 0)
    module_of = dict(rows(db, "SELECT rel_path, module FROM graph.import_modules"))
    pairs = {(module_of[u], module_of[d]) for u, d in rows(
        db, "SELECT use_rel_path, def_rel_path FROM graph.symbol_use_edges")
        if module_of[u] != module_of[d]}
    assert symbol == {m: (sum(d == m for _, d in pairs), sum(u == m for u, _ in pairs))
                      for m in symbol}
    stats = {r[0]: r[1:] for r in rows(
        db, "SELECT graph, nodes, edges, sccs, layers, library FROM analytics.graph_stats")}
    assert stats["call"][:4] == (11, 7, 10, 4)  # 8 call pairs, fact->fact left out
    assert stats["import"][:3] == (4, rows(db, "SELECT count(*) FROM graph.import_graph_edges "
                                               "WHERE NOT is_external")[0][0], 3)
    assert stats["symbol_use"][0] > 0 and stats["call"][4].startswith("igraph ")
    assert checks(result)["analytics/graph_metrics_modules:one_row_per_graph_node"]


def test_same_tables_give_same_metrics(materialized):
    """The step alone, again, on the same graph tables: row for row the same."""
    repo, db, _ = materialized
    before = {t: rows(db, f"SELECT * FROM {t} ORDER BY ALL") for t in TABLES}
    assert run.materialize(METRICS, target=str(repo), db=str(db), tools=["scip"],
                           console_log=False).success
    assert {t: rows(db, f"SELECT * FROM {t} ORDER BY ALL") for t in TABLES} == before


def test_call_graph_view(materialized):
    """The README's "who calls X" on docs.v_call_graph_enriched."""
    _, db, _ = materialized
    assert rows(db, """
        SELECT caller_qualname, caller_kind, callsite_line FROM docs.v_call_graph_enriched
        WHERE callee_qualname = 'pkg.util.ping' ORDER BY ALL""") == [
        ("pkg.b.go", "function", 6), ("pkg.util.pong", "function", 14)]
