"""Measures of one directed graph with igraph (python-igraph, C core): PageRank, betweenness,
closeness, strongly connected components, layers, weak components, average clustering and a
diameter estimate. No Dagster, no DuckDB: nodes are 0..n-1 (the caller's sorted keys), edges
distinct (src, dst) index pairs without self-loops.

igraph was chosen by measurement over networkx and rustworkx on django 5.2.19's graphs
(codeintel_assets/benchmark_graphs.py; numbers in docs/assets.md, "Symbol uses and graph
metrics"): the fastest of the three on every measure there but closeness on the call graph
(rustworkx, on both cores: 0.07 s against 0.11 s), the only one with both a sampled betweenness
(a `sources` subset) and average clustering, single-threaded (its sums add up in one order), and
it needs no numpy.

Definitions (as networkx's, which the tests compare against on the same edge lists):
- pagerank: damping 0.85, dangling nodes spread uniformly (PRPACK).
- betweenness: normalised by 1/((n-1)(n-2)) (directed). Exact while its BFS runs would visit
  at most EXACT_BETWEENNESS_VISITS nodes (estimated from the sample's reachable sets, see
  exact_visits); above, from the k = BETWEENNESS_SAMPLE sources random.Random(SEED).sample(range(n))
  draws, each node's sum scaled by 1/(k'(n-2)) with k' = k, or k-1 for a sampled node (whose
  own run adds nothing): networkx 3.5's estimator and draw for nodes 0..n-1, so
  `betweenness_centrality(k=, seed=SEED)` gives the same values. betweenness_method says
  which: `exact` | `sampled k=500 seed=42`.
- closeness: Wasserman-Faust over incoming distances: (r-1)/(n-1) * (r-1)/sum of distances
  from the r-1 nodes that reach the node; 0 when none does. Always exact: it costs about half
  an exact betweenness (two igraph calls of one BFS per node), so a graph whose betweenness is
  sampled still pays that.
- scc_id: 1, 2, ... in the order of each component's smallest node index; layer: depth of its
  component in the condensation DAG counted from the bottom (0 = no edge leaves it).
- avg_clustering: mean local clustering coefficient of the undirected simple graph, nodes of
  degree < 2 counting 0. diameter_estimate: diameter of the largest weak component,
  undirected: exact up to EXACT_DIAMETER_NODES nodes, else the double-sweep lower bound from
  its smallest node.
"""

from __future__ import annotations

import importlib.metadata
import math
import random
from dataclasses import dataclass

import igraph as ig

SEED = 42
BETWEENNESS_SAMPLE = 500
# Exact betweenness while its BFS runs visit at most this many nodes (estimated): django
# 5.2.19's symbol-use graph (41,043 nodes, 93,799 edges) is ~1.3e7 visits, 0.8 s exact.
EXACT_BETWEENNESS_VISITS = 1e8
EXACT_DIAMETER_NODES = 5000
LIBRARY = f"igraph {importlib.metadata.version('igraph')}"


@dataclass(frozen=True)
class NodeMeasures:
    """Per-node measures, each a list indexed by node (0..n-1)."""

    pagerank: list[float]
    betweenness: list[float]
    closeness: list[float]
    scc_id: list[int]
    component_size: list[int]
    layer: list[int]
    betweenness_method: str


@dataclass(frozen=True)
class GraphShape:
    """One row of analytics.graph_stats without repo, commit and graph name."""

    nodes: int
    edges: int
    weak_components: int
    sccs: int
    layers: int
    avg_clustering: float
    diameter_estimate: int
    diameter_method: str
    library: str = LIBRARY


@dataclass(frozen=True)
class Measured:
    shape: GraphShape
    nodes: NodeMeasures | None  # None when per-node measures were not asked for


def sample_sources(n: int, k: int = BETWEENNESS_SAMPLE, seed: int = SEED) -> list[int]:
    """The k sources of the sampled betweenness: networkx's draw for nodes 0..n-1."""
    return random.Random(seed).sample(range(n), k)


def components(graph: ig.Graph) -> tuple[list[int], list[int], list[int]]:
    """(scc_id, component_size, layer) per node; see the module docstring."""
    n = graph.vcount()
    membership = graph.connected_components(mode="strong").membership
    smallest: dict[int, int] = {}
    for v, c in enumerate(membership):
        smallest.setdefault(c, v)  # nodes in index order: the first seen is the smallest
    order = {c: i for i, c in enumerate(sorted(smallest, key=smallest.__getitem__), 1)}
    scc = [order[c] for c in membership]
    size: dict[int, int] = {}
    for c in scc:
        size[c] = size.get(c, 0) + 1
    out: dict[int, set[int]] = {c: set() for c in size}
    for a, b in graph.get_edgelist():
        if scc[a] != scc[b]:
            out[scc[a]].add(scc[b])
    dag = ig.Graph(n=len(size) + 1, edges=[(a, b) for a, s in out.items() for b in s],
                   directed=True)
    layer: dict[int, int] = {}
    for c in reversed(dag.topological_sorting(mode="out")):
        if c:  # vertex 0 is unused (ids start at 1)
            layer[c] = 1 + max((layer[d] for d in out[c]), default=-1)
    return scc, [size[scc[v]] for v in range(n)], [layer[scc[v]] for v in range(n)]


def exact_visits(graph: ig.Graph) -> float:
    """Nodes an exact betweenness would visit (one BFS per node), estimated from the
    BETWEENNESS_SAMPLE sources' reachable sets: it decides exact or sampled from the graph
    alone, so the choice is as deterministic as the values."""
    n = graph.vcount()
    k = min(n, BETWEENNESS_SAMPLE)
    return sum(graph.neighborhood_size(vertices=sample_sources(n, k), order=n, mode="out")) \
        * n / max(k, 1)


def betweenness(graph: ig.Graph) -> tuple[list[float], str]:
    """Normalised betweenness and its method (exact, or sampled from fixed-seed sources)."""
    n = graph.vcount()
    if n < 3:
        return [0.0] * n, "exact"
    if n <= BETWEENNESS_SAMPLE or exact_visits(graph) <= EXACT_BETWEENNESS_VISITS:
        scale = 1.0 / ((n - 1) * (n - 2))
        return [b * scale for b in graph.betweenness(directed=True)], "exact"
    k = BETWEENNESS_SAMPLE
    sources = sample_sources(n, k)
    raw, picked = graph.betweenness(directed=True, sources=sources), set(sources)
    # A node's own runs add nothing to it: its sum is over the other sampled sources.
    return [b / ((k - 1 if v in picked else k) * (n - 2)) for v, b in enumerate(raw)], \
        f"sampled k={k} seed={SEED}"


def closeness(graph: ig.Graph) -> list[float]:
    """Wasserman-Faust closeness over incoming distances (networkx's closeness_centrality).
    igraph gives 1/sum (raw) and (r-1)/sum (normalized) over the r-1 nodes reaching each
    node: their ratio is r-1."""
    n = graph.vcount()
    if n < 2:
        return [0.0] * n
    raw = graph.closeness(mode="in", normalized=False)
    norm = graph.closeness(mode="in", normalized=True)
    out = []
    for a, b in zip(raw, norm):
        if math.isnan(a) or a == 0:
            out.append(0.0)
        else:
            reach = round(b / a)
            out.append(b * reach / (n - 1))
    return out


def diameter(undirected: ig.Graph) -> tuple[int, str]:
    """Diameter of the largest connected component of `undirected` and how it was found."""
    if not undirected.vcount():
        return 0, "exact"
    parts = undirected.connected_components()
    largest = max(parts, key=lambda c: (len(c), -min(c)))
    sub = undirected.induced_subgraph(sorted(largest))
    if sub.vcount() <= EXACT_DIAMETER_NODES:
        return int(sub.diameter(directed=False)), "exact"
    first = sub.distances(source=[0])[0]
    far = max(range(sub.vcount()), key=lambda v: (first[v], -v))
    return int(max(sub.distances(source=[far])[0])), "estimate (double sweep lower bound)"


def measure(n: int, edges: list[tuple[int, int]], per_node: bool = True) -> Measured:
    """The measures of the directed graph on nodes 0..n-1 with `edges` (distinct, no
    self-loops). Deterministic: the same input gives the same output."""
    graph = ig.Graph(n=n, edges=edges, directed=True)
    scc, size, layer = components(graph)
    undirected = graph.as_undirected(mode="collapse")
    clustering = undirected.transitivity_avglocal_undirected(mode="zero") if n else 0.0
    diam, diam_method = diameter(undirected)
    shape = GraphShape(
        nodes=n, edges=len(edges),
        weak_components=len(graph.connected_components(mode="weak")) if n else 0,
        sccs=len(set(scc)), layers=(max(layer) + 1) if layer else 0,
        avg_clustering=0.0 if math.isnan(clustering) else float(clustering),
        diameter_estimate=diam, diameter_method=diam_method)
    if not per_node:
        return Measured(shape, None)
    between, method = betweenness(graph)
    return Measured(shape, NodeMeasures(
        pagerank=graph.pagerank(damping=0.85, directed=True) if n else [],
        betweenness=between, closeness=closeness(graph), scc_id=scc, component_size=size,
        layer=layer, betweenness_method=method))
