"""graph.call_graph_edges rows of resolved call sites, for storage/callgraph.py: one row per
callee of a site, its kind, confidence and evidence, and the step's counts. No DuckDB.

Built column by column (a list per column, one Arrow conversion each) rather than as a dict per
row: django 5.2.19 has about 200,000 edges, and row dicts cost seconds there. A site's evidence
JSON is the same for every site that reaches the same callee by the same rule with the same
SCIP symbol (every `self.assertEqual` of a test class): it is encoded once per distinct content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from decimal import Decimal

import pyarrow as pa

from codeintel_assets.storage import call_dispatch
from codeintel_assets.storage.call_linker import Callee
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway_types import FileDelta
from codeintel_assets.storage.ledger import Ledger
from codeintel_assets.storage.tokens import code_version

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
# A site's other callees named in each row's evidence, at most: every one is a row of its own,
# and one django site passes 857 functions to a parameter (857 rows each listing 857 names
# made 376 of the evidence column's 394 MB).
EVIDENCE_CANDIDATES = 16
_FIELDS = tuple(f.name for f in fields(Callee))
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
          agreement: dict, files: set[str] | None = None) -> tuple[pa.Table, CallGraphStats]:
    """The edge rows of `resolved` ((site row, callees, param) per site) as a catalog table of
    `repo`, and the counts (of every site). `callers`: (rel_path, qualname) -> GOID of the
    enclosing definition; a site whose caller has none is skipped (core.goids lags
    core.call_sites after a failed goids step). `agreement`: static rules vs SCIP at
    SCIP-resolved sites. `files`: only the rows of these files (None: all)."""
    cols: dict[str, list] = {c: [] for c in _COLUMNS}
    evidence_memo: dict[tuple, int] = {}  # evidence content -> its index in `texts`
    counts = {"in_repo": 0, "by_scip": 0, "external": 0, "ambiguous": 0, "unknown": 0}
    sites = 0
    for site, callees, _ in resolved:
        caller = callers.get((site["rel_path"], site["caller_qualname"]))
        if caller is None:
            continue
        if files is None or site["rel_path"] in files:
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


def file_digests(resolved, callers: dict[tuple[str, str], Decimal]) -> dict[str, str]:
    """rel_path -> a digest of everything its edge rows are made of but `commit` (each
    site's caller, position, callee text, SCIP symbol and callees, in site order): equal
    digests, equal rows. Files with call sites only."""
    parts: dict[str, list[str]] = {}
    texts: dict[int, str] = {}  # id of a callee list -> its text (sites share their lists)
    tuples: dict[int, str] = {}  # id of a candidates tuple -> its digest (a site's callees
    # share one: 857 candidates on each of 857 callees at one django site)
    for site, callees, _ in resolved:
        caller = callers.get((site["rel_path"], site["caller_qualname"]))
        file = parts.setdefault(site["rel_path"], [])
        if caller is None:
            continue
        text = texts.get(id(callees))
        if text is None:
            text = texts[id(callees)] = "\2".join(_text(c, tuples) for c in callees)
        file.append(f"{caller}\0{site['line']}\0{site['col']}\0{site['callee_name']}\0"
                    f"{site['scip_symbol']}\0{text}\1")
    return {path: hashlib.blake2b("".join(p).encode(), digest_size=16).hexdigest()
            for path, p in parts.items()}


def _text(callee: Callee, tuples: dict[int, str]) -> str:
    """Every field of `callee`, a tuple as its digest (kept by id in `tuples`)."""
    out = []
    for f in _FIELDS:
        value = getattr(callee, f)
        if isinstance(value, tuple):
            got = tuples.get(id(value))
            if got is None:
                got = tuples[id(value)] = hashlib.blake2b(
                    repr(value).encode(), digest_size=16).hexdigest()
            value = got
        out.append(repr(value))
    return "\3".join(out)


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
        evidence["candidates"] = list(candidates[:EVIDENCE_CANDIDATES])
        if len(candidates) > EVIDENCE_CANDIDATES:
            evidence["candidate_count"] = len(candidates)
    if guessed:
        evidence["chosen"] = "the binding that runs last"
    if disagrees:
        evidence["static" if via == "scip" else "scip"] = disagrees
    if note:
        evidence["dispatch"] = note
    return json.dumps(evidence)


@dataclass(frozen=True)
class EdgeWrite:
    """How graph.call_graph_edges is written: `delta` replaces the rows of the files whose
    digest (`file_digests`) changed and deletes those of files without call sites now
    (`delta.full`: every row), its ledger the new digests. `reason` says why full or what
    changed (asset metadata)."""

    delta: FileDelta
    reason: str

    @property
    def mode(self) -> str:
        """'full' (every row rewritten, the ledger replaced) or 'incremental' (the delta's
        files only): the asset metadata's `update`."""
        return "full" if self.delta.full else "incremental"


def write_plan(stored: Ledger, digests: dict[str, str], version: str, full: bool
               ) -> tuple[bool, tuple[str, ...], str]:
    """(full, the files whose rows to replace or delete, reason) of a write of rows with
    `digests`, over the `stored` ledger (None: none); `full`: asked to rebuild."""
    if full:
        return True, (), "full: full rebuild asked"
    if stored is None:
        return True, (), "full: no ledger of the stored rows"
    if stored[0] != version:
        return True, (), "full: catalog or code changed"
    old = stored[1]
    changed = sorted(p for p, d in digests.items() if old.get(p) != d)
    gone = sorted(p for p in old if p not in digests)
    return False, tuple(changed + gone), \
        f"{len(changed)} of {len(digests)} files' edges changed, {len(gone)} files gone"


def version() -> str:
    """The ledger version of graph.call_graph_edges: the catalog's, and the code's (rows are
    made by this package's code: other code, other rows for the same digests)."""
    return f"{table(EDGES_TABLE).version()}+{code_version()}"
