"""View assets: docs.v_call_graph_enriched created through the gateway by a real run, its
columns checked against the declaration, queryable, and kept current by the tables it reads."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets.storage.views import VIEWS, ViewMismatchError, ViewSpec
from codeintel_assets_tests.conftest import make_git_repo

REPO = "acme/widgets"
NODES = [  # goid, kind, qualname, rel_path
    (1, "module", "pkg.a", "pkg/a.py"),
    (2, "function", "pkg.a.f", "pkg/a.py"),
    (3, "function", "pkg.b.g", "pkg/b.py"),
]
EDGES = [  # caller, line, col, callee, name, target, kind, via, confidence
    (1, 9, 1, 2, "f", "pkg.a.f", "direct", "local_name", 0.9),
    (2, 3, 5, 3, "g", "pkg.b.g", "direct", "scip", 1.0),
    (2, 4, 7, None, "len", "builtins.len", "direct", "builtin", 1.0),
    (3, 2, 4, None, "x.y", None, "unresolved", "unknown", 0.0),
]


def write_call_graph(gateway: StorageGateway, edges=EDGES) -> None:
    """Hand-made graph.call_graph_nodes and _edges rows, written as the callgraph step would."""
    nodes = table("graph.call_graph_nodes").from_rows([
        {"repo": REPO, "commit": "c1", "goid": Decimal(g), "kind": k, "qualname": q,
         "rel_path": p, "module": q.rsplit(".", 1)[0] if k != "module" else q}
        for g, k, q, p in NODES])
    rows = table("graph.call_graph_edges").from_rows([
        {"repo": REPO, "commit": "c1", "caller_goid": Decimal(c),
         "callsite_path": {1: "pkg/a.py", 2: "pkg/a.py", 3: "pkg/b.py"}[c], "callsite_line": ln,
         "callsite_col": col, "callee_goid": None if d is None else Decimal(d),
         "callee_name": n, "callee_target": t, "kind": k, "resolved_via": v, "confidence": cf}
        for c, ln, col, d, n, t, k, v, cf in edges])
    gateway.replace_repo_rows(table("graph.call_graph_nodes"), REPO, nodes)
    gateway.replace_repo_rows(table("graph.call_graph_edges"), REPO, rows)


def test_call_graph_view_asset(tmp_path):
    repo = make_git_repo(tmp_path / "widgets", {"pkg/__init__.py": ""})
    db = tmp_path / "ci.duckdb"
    # Without its tables the view's step fails loudly, creating nothing.
    failed = run.materialize("docs/v_call_graph_enriched", target=str(repo), db=str(db),
                             tools=[], console_log=False, raise_on_error=False)
    assert not failed.success
    write_call_graph(StorageGateway(db))
    result = run.materialize("docs/v_call_graph_enriched", target=str(repo), db=str(db),
                             tools=[], console_log=False)
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["kind"].value == "view"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT table_type FROM information_schema.tables WHERE "
                           "table_schema = 'docs' AND table_name = 'v_call_graph_enriched'"
                           ).fetchall() == [("VIEW",)]
        got = con.execute(
            "SELECT caller_qualname, caller_kind, callsite_line, callee_qualname, callee_kind, "
            "callee_rel_path, callee_target, kind FROM docs.v_call_graph_enriched "
            "ORDER BY callsite_path, callsite_line").fetchall()
    assert got == [
        ("pkg.a.f", "function", 3, "pkg.b.g", "function", "pkg/b.py", "pkg.b.g", "direct"),
        ("pkg.a.f", "function", 4, None, None, None, "builtins.len", "direct"),
        ("pkg.a", "module", 9, "pkg.a.f", "function", "pkg/a.py", "pkg.a.f", "direct"),
        ("pkg.b.g", "function", 2, None, None, None, None, "unresolved"),
    ]
    # Its check: queryable, one row per call edge.
    (check,) = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == ("one_row_per_base_row", True)
    assert check.metadata["view_rows"].value == check.metadata["base_rows"].value == 4
    # A join that fans out (a node row repeated) fails it, with both counts.
    gateway = StorageGateway(db)
    node = gateway.read_table(table("graph.call_graph_nodes"), REPO, where="goid = 2")
    with gateway.connect() as con:
        con.register("dup", node)
        con.execute("INSERT INTO graph.call_graph_nodes SELECT * FROM dup")
    counts = run.materialize("docs/v_call_graph_enriched", target=str(repo), db=str(db),
                             tools=[], console_log=False).get_asset_check_evaluations()[0]
    assert not counts.passed
    # goid 2 calls twice and is called once: three more rows
    assert (counts.metadata["view_rows"].value, counts.metadata["base_rows"].value) == (7, 4)
    write_call_graph(gateway)
    # A view, not a copy: new edges show without materializing it again. The README's query
    # "who calls pkg.b.g":
    write_call_graph(StorageGateway(db), EDGES + [(1, 10, 0, 3, "g", "pkg.b.g", "direct",
                                                   "import_alias", 0.9)])
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT caller_qualname, callsite_path, callsite_line FROM docs.v_call_graph_enriched "
            "WHERE callee_qualname = 'pkg.b.g' ORDER BY ALL").fetchall() == [
            ("pkg.a", "pkg/a.py", 10), ("pkg.a.f", "pkg/a.py", 3)]


def test_view_columns_must_match_declaration(tmp_path):
    gateway = StorageGateway(tmp_path / "ci.duckdb")
    write_call_graph(gateway)
    spec = VIEWS["docs.v_call_graph_enriched"]
    wrong = ViewSpec(spec.schema, spec.name, spec.reads, spec.columns, spec.description,
                     spec.select.replace("e.confidence", "e.confidence::VARCHAR AS confidence"))
    gateway.replace_view(spec)
    with pytest.raises(ViewMismatchError, match="confidence"):
        gateway.replace_view(wrong)
    # The failed replacement left the declared view in place.
    assert gateway.query("SELECT typeof(confidence) AS t FROM docs.v_call_graph_enriched "
                         "LIMIT 1").column("t").to_pylist() == ["DOUBLE"]
