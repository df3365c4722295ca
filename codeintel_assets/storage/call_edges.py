"""graph.call_graph_edges rows of resolved call sites, for storage/callgraph.py: one row per
callee of a site, its kind, confidence and evidence, and the step's counts. No DuckDB.

Built column by column (a list per column, one Arrow conversion each) rather than as a dict per
row: django 5.2.19 has about 200,000 edges, and row dicts cost seconds there. A site's evidence
JSON is the same for every site that reaches the same callee by the same rule with the same
SCIP symbol (every `self.assertEqual` of a test class): it is encoded once per distinct content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa

from codeintel_assets.storage import call_dispatch
from codeintel_assets.storage.call_linker import Callee
from codeintel_assets.storage.catalog import table

EDGES_TABLE = "graph.call_graph_edges"

# Confidence of a static rule's edge: name-binding rules are as sure as Python's scoping;
# value-flow rules (assignments, returns, containers, instances) can be bypassed at runtime.
_CONFIDENCE = {"scip": 1.0, "parameter": 0.7, "assigned_alias": 0.8,
               "returned_value": 0.8, "parameter_any": 0.7, "parameter_default": 0.7,
               "container_item": 0.8, "instance_method": 0.8, "attribute": 0.8,
               "inherited_external": 0.7, "wrapper": 0.7, **call_dispatch.CONFIDENCE}
_STATIC_CONFIDENCE = 0.9
_OUTSIDE_RULES = ("builtin", "external", "inherited_external")  # a known target, no GOID
_GUESS_CONFIDENCE = 0.6  # one of a name's disagreeing bindings, the one that runs last
_SEVERAL_CONFIDENCE = 0.7  # one of several callees the static rules find for one site
_COLUMNS = ("commit", "caller_goid", "callsite_path", "callsite_line", "callsite_col",
            "callee_goid", "callee_key", "callee_name", "callee_target", "kind",
            "resolved_via", "confidence", "evidence")


@dataclass(frozen=True)
class CallGraphStats:
    """Counts of one call-graph build (step metadata)."""

    call_sites: int
    in_repo: int  # edges with a callee_goid
    by_scip: int
    external: int  # builtin or external target
    ambiguous: int
    unknown: int
    scip_available: bool  # core.scip_occurrences had rows: SCIP took part
    # At the call sites SCIP resolved to a GOID, what the static rules alone say: the same
    # GOID, another (the losing target in evidence.static or evidence.scip), or nothing.
    # (Not stored: 0 when read back.)
    static_agrees_with_scip: int = 0
    static_differs_from_scip: int = 0
    static_unresolved_at_scip: int = 0

    @property
    def resolved_share(self) -> float | None:
        """Share of call sites whose target is known (in-repo, builtin or external)."""
        return (self.in_repo + self.external) / self.call_sites if self.call_sites else None


def edges(repo: str, resolved, callers: dict[tuple[str, str], Decimal], scip_available: bool,
          agreement: dict) -> tuple[pa.Table, CallGraphStats]:
    """The edge rows of `resolved` ((site row, callees, param) per site) as a catalog table of
    `repo`, and the counts. `callers`: (rel_path, qualname) -> GOID of the enclosing
    definition; a site whose caller has none is skipped (core.goids lags core.call_sites after
    a failed goids step). `agreement`: static rules vs SCIP at SCIP-resolved sites."""
    cols: dict[str, list] = {c: [] for c in _COLUMNS}
    evidence_memo: dict[tuple, int] = {}  # evidence content -> its index in `texts`
    counts = {"in_repo": 0, "by_scip": 0, "external": 0, "ambiguous": 0, "unknown": 0}
    sites = 0
    for site, callees, _ in resolved:
        caller = callers.get((site["rel_path"], site["caller_qualname"]))
        if caller is None:
            continue
        keys = set()
        several = len(callees) > 1
        for callee in callees:  # one row per callee (the key's callee_key)
            if (callee.target or "?") not in keys:
                keys.add(callee.target or "?")
                _add(cols, site, caller, callee, several, evidence_memo)
        if all(c.implicit for c in callees):
            continue  # a with/for/raise statement: no call site of its own
        sites += 1
        first = callees[0]
        if first.goid is not None:
            counts["in_repo"] += 1
            counts["by_scip"] += first.via == "scip"
        elif first.via in _OUTSIDE_RULES:
            counts["external"] += 1
        else:
            counts[first.via if first.via == "ambiguous" else "unknown"] += 1
    stats = CallGraphStats(call_sites=sites, scip_available=scip_available,
                           static_agrees_with_scip=agreement[True],
                           static_differs_from_scip=agreement[False],
                           static_unresolved_at_scip=agreement[None], **counts)
    spec = table(EDGES_TABLE)
    cols["repo"] = [repo] * len(cols["commit"])
    # evidence holds indices into the distinct texts: Arrow copies each text per row in C
    texts = pa.array([_evidence(*k) for k in evidence_memo], pa.string())
    cols["evidence"] = texts.take(pa.array(cols["evidence"], pa.int32()))
    return pa.Table.from_pydict(cols, schema=spec.arrow_schema), stats


def _add(cols: dict[str, list], site: dict, caller: Decimal, callee: Callee, several: bool,
         evidence_memo: dict[tuple, int]) -> None:
    """Append one row: `callee` of `site`; `several`: one of the site's several callees
    (confidence at most _SEVERAL_CONFIDENCE)."""
    known = callee.goid is not None or callee.via in _OUTSIDE_RULES
    key = (callee.via, site["scip_symbol"], callee.candidates, callee.guessed,
           callee.disagrees, callee.note)
    evidence = evidence_memo.get(key)
    if evidence is None:
        evidence = evidence_memo[key] = len(evidence_memo)
    confidence = 0.0
    if known:
        confidence = min(_CONFIDENCE.get(callee.via, _STATIC_CONFIDENCE),
                         _GUESS_CONFIDENCE if callee.guessed else 1.0,
                         _SEVERAL_CONFIDENCE if several and callee.via != "scip" else 1.0)
    cols["commit"].append(site["commit"])
    cols["caller_goid"].append(caller)
    cols["callsite_path"].append(site["rel_path"])
    cols["callsite_line"].append(site["line"])
    cols["callsite_col"].append(site["col"])
    cols["callee_goid"].append(callee.goid)
    cols["callee_key"].append(callee.target or "?")
    cols["callee_name"].append(site["callee_name"])
    cols["callee_target"].append(callee.target)
    cols["kind"].append(callee.kind or ("implicit" if callee.implicit else
                                        "direct" if known else "unresolved"))
    cols["resolved_via"].append(callee.via)
    cols["confidence"].append(confidence)
    cols["evidence"].append(evidence)


def _evidence(via: str, scip_symbol: str | None, candidates: tuple[str, ...], guessed: bool,
              disagrees: str | None, note: str) -> str:
    """How a callee was resolved (a Callee's fields and the site's SCIP symbol), as the
    evidence column's JSON."""
    evidence = {"rule": via}
    if scip_symbol is not None:
        evidence["scip_symbol"] = scip_symbol
    if candidates:
        evidence["candidates"] = list(candidates)
    if guessed:
        evidence["chosen"] = "the binding that runs last"
    if disagrees:
        evidence["static" if via == "scip" else "scip"] = disagrees
    if note:
        evidence["dispatch"] = note
    return json.dumps(evidence)
