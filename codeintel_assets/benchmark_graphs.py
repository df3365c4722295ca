"""Measure graph libraries on a warehouse's graphs: which one graph_metrics uses, and why.

    python -m codeintel_assets.benchmark_graphs --db /tmp/dj.duckdb [--json out.json]
    python -m codeintel_assets.benchmark_graphs --build django==5.2.19 --db /tmp/dj.duckdb

`--build` first materializes what the graphs need (scip_ingest, goids, crosswalk, import_graph,
symbol_uses and, when the step exists, callgraph; no type checkers, no tests) for the pinned
sdist (benchmark.py's download and cache) into `--db`. Then, for each graph of the warehouse
(call: graph.call_graph_edges when present; import: graph.import_graph_edges' internal edges;
symbol_use: graph.symbol_use_edges at definition level, use_goid -> def_goid) and each library
installed (networkx, rustworkx, igraph), it times, in seconds of one process: building the
graph from the edge list, PageRank, betweenness (exact, and from `--sample` sources with a fixed
seed), closeness (Wasserman-Faust, incoming distances), strongly and weakly connected
components, average clustering and a double-sweep diameter estimate. An exact measure a library
would take longer than `--budget` seconds for is timed on a sample of sources and extrapolated
(linear in sources); the report marks it `extrapolated`. Libraries that are not installed are
reported as missing; measure them with `pip install --target DIR ...` and PYTHONPATH=DIR.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SEED = 42
LIBRARIES = ("networkx", "rustworkx", "igraph")


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sources(n: int, k: int) -> list[int]:
    return sorted(random.Random(SEED).sample(range(n), min(k, n)))


def _per_source(full: int, k: int, seconds: float) -> dict:
    """A measure timed from k sources, extrapolated to all `full` sources."""
    return {"s": round(seconds * full / max(k, 1), 3), "extrapolated": k < full,
            "sources_timed": k, "timed_s": round(seconds, 3)}


def bench_networkx(n: int, edges: list[tuple[int, int]], sample: int, budget: float) -> dict:
    import networkx as nx

    out: dict = {}
    t, g = _timed(lambda: _nx_graph(nx, n, edges))
    out["build_s"] = round(t, 3)
    try:
        out["pagerank_s"] = round(_timed(lambda: nx.pagerank(g, alpha=0.85))[0], 3)
    except ImportError as exc:  # networkx's pagerank needs scipy
        out["pagerank_s"] = f"unavailable: {exc}"
    probe = max(1, min(n, 64))
    t_probe, _ = _timed(lambda: nx.betweenness_centrality(g, k=probe, seed=SEED))
    if t_probe * n / probe <= budget:
        out["betweenness_exact"] = {"s": round(_timed(lambda: nx.betweenness_centrality(g))[0], 3),
                                    "extrapolated": False}
    else:
        out["betweenness_exact"] = _per_source(n, probe, t_probe)
    out["betweenness_sampled_s"] = round(_timed(lambda: nx.betweenness_centrality(
        g, k=min(sample, n), seed=SEED))[0], 3)
    # closeness_centrality(g) reverses g once, then runs one BFS per node: time that.
    nodes = _sources(n, probe)
    t_reverse, reverse = _timed(lambda: g.reverse())
    t_bfs, _ = _timed(lambda: [nx.single_source_shortest_path_length(reverse, v) for v in nodes])
    t_probe = t_bfs + t_reverse * probe / n
    if t_probe * n / probe <= budget:
        out["closeness"] = {"s": round(_timed(lambda: nx.closeness_centrality(g))[0], 3),
                            "extrapolated": False}
    else:
        out["closeness"] = _per_source(n, probe, t_probe)
    out["scc_wcc_s"] = round(_timed(lambda: (list(nx.strongly_connected_components(g)),
                                             list(nx.weakly_connected_components(g))))[0], 3)
    u = g.to_undirected()
    out["avg_clustering_s"] = round(_timed(lambda: nx.average_clustering(u))[0], 3)
    out["diameter_estimate_s"] = round(_timed(lambda: _nx_double_sweep(nx, u))[0], 3)
    return out


def _nx_graph(nx, n: int, edges):
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    return g


def _nx_double_sweep(nx, u) -> int:
    if not len(u):
        return 0
    comp = u.subgraph(max(nx.connected_components(u), key=len))
    start = min(comp)
    far = max(nx.single_source_shortest_path_length(comp, start).items(), key=lambda kv: kv[1])
    return max(nx.single_source_shortest_path_length(comp, far[0]).values())


def bench_rustworkx(n: int, edges: list[tuple[int, int]], sample: int, budget: float) -> dict:
    import rustworkx as rx

    out: dict = {}

    def build():
        g = rx.PyDiGraph(multigraph=False)
        g.add_nodes_from(range(n))
        g.add_edges_from_no_data(edges)
        return g

    t, g = _timed(build)
    out["build_s"] = round(t, 3)
    out["pagerank_s"] = round(_timed(lambda: rx.pagerank(g, alpha=0.85))[0], 3)
    # Exact only (no sources or k parameter); parallel over the machine's threads.
    out["betweenness_exact"] = {"s": round(_timed(
        lambda: rx.digraph_betweenness_centrality(g, normalized=True))[0], 3),
        "extrapolated": False}
    out["betweenness_sampled_s"] = "unavailable: no sampled estimator"
    out["closeness"] = {"s": round(_timed(
        lambda: rx.closeness_centrality(g, wf_improved=True))[0], 3), "extrapolated": False}
    out["scc_wcc_s"] = round(_timed(lambda: (rx.strongly_connected_components(g),
                                             rx.weakly_connected_components(g)))[0], 3)
    out["avg_clustering_s"] = "unavailable: global transitivity only"
    u = g.to_undirected(multigraph=False)

    def sweep():
        if not n:
            return 0
        comp = max(rx.connected_components(u), key=len)
        start = min(comp)
        d1 = rx.dijkstra_shortest_path_lengths(u, start, lambda _: 1.0)
        far = max(d1.items(), key=lambda kv: kv[1])[0] if len(d1) else start
        d2 = rx.dijkstra_shortest_path_lengths(u, far, lambda _: 1.0)
        return int(max(d2.values(), default=0))

    out["diameter_estimate_s"] = round(_timed(sweep)[0], 3)
    return out


def bench_igraph(n: int, edges: list[tuple[int, int]], sample: int, budget: float) -> dict:
    import igraph as ig

    out: dict = {}
    t, g = _timed(lambda: ig.Graph(n=n, edges=edges, directed=True))
    out["build_s"] = round(t, 3)
    out["pagerank_s"] = round(_timed(lambda: g.pagerank(damping=0.85))[0], 3)
    probe = _sources(n, max(1, min(n, 256)))
    t_probe, _ = _timed(lambda: g.betweenness(sources=probe))
    if t_probe * n / len(probe) <= budget:
        out["betweenness_exact"] = {"s": round(_timed(lambda: g.betweenness())[0], 3),
                                    "extrapolated": False}
    else:
        out["betweenness_exact"] = _per_source(n, len(probe), t_probe)
    sampled = _sources(n, sample)
    out["betweenness_sampled_s"] = round(_timed(lambda: g.betweenness(sources=sampled))[0], 3)
    # Wasserman-Faust from two calls: normalized / raw = reachable others (see graph_measures).
    out["closeness"] = {"s": round(_timed(lambda: (g.closeness(mode="in", normalized=True),
                                                   g.closeness(mode="in", normalized=False)))[0],
                                   3), "extrapolated": False, "calls": 2}
    out["scc_wcc_s"] = round(_timed(lambda: (g.connected_components(mode="strong"),
                                             g.connected_components(mode="weak")))[0], 3)
    u = g.as_undirected(mode="collapse")
    out["avg_clustering_s"] = round(_timed(
        lambda: u.transitivity_avglocal_undirected(mode="zero"))[0], 3)

    def sweep():
        if not n:
            return 0
        comp = max(u.connected_components(), key=len)
        start = min(comp)
        d1 = u.distances(source=[start])[0]
        far = max(comp, key=lambda v: d1[v])
        d2 = u.distances(source=[far])[0]
        return int(max(d2[v] for v in comp))

    out["diameter_estimate_s"] = round(_timed(sweep)[0], 3)
    return out


BENCHES = {"networkx": bench_networkx, "rustworkx": bench_rustworkx, "igraph": bench_igraph}


def load_graphs(db: Path) -> dict[str, tuple[int, list[tuple[int, int]]]]:
    """(node count, distinct directed edges as node indexes, self-loops left out) of each
    graph of the warehouse at `db` (one repository)."""
    import duckdb

    queries = {
        "call": ("SELECT goid FROM graph.call_graph_nodes",
                 "SELECT DISTINCT caller_goid, callee_goid FROM graph.call_graph_edges "
                 "WHERE callee_goid IS NOT NULL"),
        "import": ("SELECT module FROM graph.import_modules",
                   "SELECT src_module, dst_module FROM graph.import_graph_edges "
                   "WHERE NOT is_external"),
        "symbol_use": ("SELECT use_goid FROM graph.symbol_use_edges UNION "
                       "SELECT def_goid FROM graph.symbol_use_edges WHERE def_goid IS NOT NULL",
                       "SELECT DISTINCT use_goid, def_goid FROM graph.symbol_use_edges "
                       "WHERE def_goid IS NOT NULL"),
    }
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
        for name, (nodes_sql, edges_sql) in queries.items():
            if not all(t in tables for t in _tables(f"{nodes_sql} {edges_sql}")):
                continue
            nodes = sorted(r[0] for r in con.execute(nodes_sql).fetchall())
            index = {v: i for i, v in enumerate(nodes)}
            edges = sorted({(index[a], index[b]) for a, b in con.execute(edges_sql).fetchall()
                            if a != b and a in index and b in index})
            out[name] = (len(nodes), edges)
    return out


def _tables(sql: str) -> set[str]:
    return {w for w in sql.replace(",", " ").split() if w.startswith("graph.")}


def build_warehouse(requirement: str, db: Path) -> None:
    from codeintel_assets import run
    from codeintel_assets.benchmark import fetch_sdist, unpack_as_git_repo

    tmp = Path(tempfile.mkdtemp(prefix="codeintel-graphs-"))
    root = unpack_as_git_repo(fetch_sdist(requirement), tmp)
    wanted = ["graph/import_graph_edges", "graph/import_modules", "graph/symbol_use_edges",
              "graph/call_graph_edges", "graph/call_graph_nodes"]
    keys = {"/".join(k.path) for k in run.definitions().resolve_asset_graph().get_all_asset_keys()}
    select = ",".join(f"*{k}" for k in wanted if k in keys)
    result = run.materialize(select, target=str(root), db=str(db), tools=["scip"],
                             console_log=False, raise_on_error=False)
    if not result.success:
        raise SystemExit(f"materializing {select} for {requirement} failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="warehouse DuckDB file (one repository)")
    parser.add_argument("--build", metavar="REQUIREMENT",
                        help="first materialize the graphs of this sdist (e.g. django==5.2.19)")
    parser.add_argument("--sample", type=int, default=500,
                        help="sources of the sampled betweenness (default 500)")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds above which an exact measure is extrapolated")
    parser.add_argument("--library", action="append", choices=LIBRARIES,
                        help="only these libraries (repeatable; default all installed)")
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args(argv)
    db = Path(args.db)
    if args.build:
        build_warehouse(args.build, db)
    graphs = load_graphs(db)
    report: dict = {"db": str(db), "seed": SEED, "sample": args.sample,
                    "graphs": {k: {"nodes": n, "edges": len(e)} for k, (n, e) in graphs.items()},
                    "versions": {lib: _version(lib) for lib in LIBRARIES}, "results": {}}
    for lib in args.library or LIBRARIES:
        if report["versions"][lib] is None:
            report["results"][lib] = "not installed"
            continue
        report["results"][lib] = {name: BENCHES[lib](n, e, args.sample, args.budget)
                                  for name, (n, e) in graphs.items()}
        print(json.dumps({lib: report["results"][lib]}), file=sys.stderr)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
