"""graph_measures (igraph) against independent values: networkx on the same edge lists, a
PageRank power iteration written here, and hand values for tiny graphs."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from codeintel_assets.storage import graph_measures
from codeintel_assets.storage.graphs import components as nx_components


def random_graph(n: int, m: int, seed: int) -> list[tuple[int, int]]:
    """Distinct edges without self-loops; a few hubs, so there are cycles and layers."""
    rng = random.Random(seed)
    edges: set[tuple[int, int]] = set()
    while len(edges) < m:
        a, b = rng.randrange(n), min(int(rng.paretovariate(1.2)) - 1, n - 1)
        if rng.random() < 0.5:
            a, b = b, a
        if a != b:
            edges.add((a, b))
    return sorted(edges)


def nx_graph(n: int, edges) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    return g


def pagerank_power(n: int, edges, damping: float = 0.85, tol: float = 1e-13) -> list[float]:
    """PageRank by power iteration, dangling nodes' rank spread uniformly."""
    out: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        out[a].append(b)
    rank = [1.0 / n] * n
    while True:
        dangling = sum(rank[v] for v in range(n) if not out[v])
        new = [(1 - damping) / n + damping * dangling / n] * n
        for v in range(n):
            for w in out[v]:
                new[w] += damping * rank[v] / len(out[v])
        if sum(abs(a - b) for a, b in zip(new, rank)) < tol:
            return new
        rank = new


GRAPHS = [(40, 90, 1), (120, 300, 2), (300, 500, 3), (25, 24, 4)]


@pytest.mark.parametrize("n,m,seed", GRAPHS)
def test_measures_equal_networkx(n, m, seed):
    edges = random_graph(n, m, seed)
    g = nx_graph(n, edges)
    got = graph_measures.measure(n, edges)
    nodes = got.nodes
    assert nodes.betweenness_method == "exact"
    assert nodes.pagerank == pytest.approx(pagerank_power(n, edges), abs=1e-9)
    between = nx.betweenness_centrality(g, normalized=True)
    assert nodes.betweenness == pytest.approx([between[v] for v in range(n)], abs=1e-12)
    close = nx.closeness_centrality(g)  # Wasserman-Faust, incoming distances
    assert nodes.closeness == pytest.approx([close[v] for v in range(n)], abs=1e-12)
    scc, size, layer = nx_components(list(range(n)), edges)
    assert nodes.scc_id == [scc[v] for v in range(n)]  # ids by smallest member, both
    assert nodes.component_size == [size[scc[v]] for v in range(n)]
    assert nodes.layer == [layer[scc[v]] for v in range(n)]
    u = g.to_undirected()
    largest = u.subgraph(max(nx.connected_components(u), key=len))
    shape = got.shape
    assert (shape.nodes, shape.edges) == (n, m)
    assert shape.weak_components == nx.number_weakly_connected_components(g)
    assert shape.sccs == nx.number_strongly_connected_components(g)
    assert shape.layers == max(layer.values()) + 1
    assert shape.avg_clustering == pytest.approx(nx.average_clustering(u), abs=1e-12)
    assert (shape.diameter_estimate, shape.diameter_method) == (nx.diameter(largest), "exact")


def test_sampled_betweenness_equals_networkx_estimator(monkeypatch):
    """Above the exact limit: networkx's k-pivot estimator with the same seed (same pivots)."""
    n, k = 300, 25
    edges = random_graph(n, 700, 5)
    assert graph_measures.exact_visits(graph_measures.ig.Graph(n=n, edges=edges,
                                                               directed=True)) > 1000
    monkeypatch.setattr(graph_measures, "EXACT_BETWEENNESS_VISITS", 1000)
    monkeypatch.setattr(graph_measures, "BETWEENNESS_SAMPLE", k)
    nodes = graph_measures.measure(n, edges).nodes
    assert nodes.betweenness_method == f"sampled k={k} seed=42"
    expected = nx.betweenness_centrality(nx_graph(n, edges), k=k, seed=42)
    assert nodes.betweenness == pytest.approx([expected[v] for v in range(n)], abs=1e-12)
    exact = nx.betweenness_centrality(nx_graph(n, edges))
    assert nodes.betweenness != pytest.approx([exact[v] for v in range(n)], abs=1e-12)


def test_diameter_estimate_is_a_lower_bound(monkeypatch):
    n, edges = 300, random_graph(300, 500, 3)
    exact = graph_measures.measure(n, edges, per_node=False).shape
    monkeypatch.setattr(graph_measures, "EXACT_DIAMETER_NODES", 10)
    estimate = graph_measures.measure(n, edges, per_node=False).shape
    assert estimate.diameter_method == "estimate (double sweep lower bound)"
    assert 0 < estimate.diameter_estimate <= exact.diameter_estimate


def test_tiny_graph_by_hand():
    """0 -> 1 -> 2 -> 0 (a cycle), 3 -> 2, 4 alone."""
    got = graph_measures.measure(5, [(0, 1), (1, 2), (2, 0), (3, 2)])
    nodes, shape = got.nodes, got.shape
    assert nodes.scc_id == [1, 1, 1, 2, 3]
    assert nodes.component_size == [3, 3, 3, 1, 1]
    assert nodes.layer == [0, 0, 0, 1, 0]
    # Paths through 2: 3->0, 3->1, 1->0; through 0: 2->1, 3->1; through 1: 0->2. Over (n-1)(n-2).
    assert nodes.betweenness == pytest.approx([2 / 12, 1 / 12, 3 / 12, 0, 0])
    # Node 2 is reached by 0 (d2), 1 (d1), 3 (d1): (3/4) * (3/4) = 0.5625.
    assert nodes.closeness == pytest.approx([0.45, 0.375, 0.5625, 0, 0])
    assert (shape.nodes, shape.edges, shape.weak_components, shape.sccs, shape.layers) == \
        (5, 4, 2, 3, 2)
    assert shape.avg_clustering == pytest.approx((1 + 1 + 1 / 3) / 5)
    assert shape.diameter_estimate == 2


def test_empty_and_deterministic():
    empty = graph_measures.measure(0, [])
    assert (empty.shape.nodes, empty.shape.edges, empty.shape.layers) == (0, 0, 0)
    assert empty.nodes.pagerank == []
    edges = random_graph(300, 700, 5)
    assert graph_measures.measure(300, edges) == graph_measures.measure(300, edges)
