"""The call graph: graph.call_graph_nodes and graph.call_graph_edges of one repository, from
core.goids, core.definition_refs, core.imports and core.call_sites, plus core.scip_symbols and
core.scip_occurrences when SCIP ran. No Dagster.

Resolution of a call site, in order:
1. scip: the SCIP occurrence starting at the callee's name token (pyright's own resolution)
   names a symbol whose definition occurrence is the name token of a GOID (the crosswalk's
   rule, joined here in DuckDB so the step needs no LibCST); a class means its constructor.
2. static rules: the file-local references of core.call_sites (extract/calls.py: local and
   enclosing scopes, module globals, import aliases, self/cls, super(), assignments, returns,
   containers, unpacking, decorators) resolved across files by storage/call_linker.py
   (re-exports, star imports, MRO, constructors) and storage/call_items.py (items of
   containers stored in another module or returned by a function).
3. parameter flow (storage/call_resolution.py): a call through a parameter (`fn()` in
   `def apply(fn)`, `for f in fns: f()`) reaches every definition the resolved calls of that
   function pass there.
A site may reach several callees: one row each (several in-repo candidates, the functions
passed to a parameter, and the implicit callees a statement or builtin calls: `with`, `for`,
`raise X`, `sorted(key=f)`). Builtins and external code keep callee_goid NULL with their
dotted target; nothing known is `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import pyarrow as pa

from codeintel_assets.extract.naming import implementation_name
from codeintel_assets.extract.parallel import paused_gc
from codeintel_assets.storage import (
    call_dispatch,
    call_edges,
    call_implicit,
    call_items,
    call_resolution,
    call_wrappers,
)
from codeintel_assets.storage.call_edges import EDGES_TABLE, CallGraphStats
from codeintel_assets.storage.call_items import split_items
from codeintel_assets.storage.call_linker import Callee, DefFacts, Linker, decode
from codeintel_assets.storage.call_points import FlowLinker
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import FileDelta, StorageGateway, conform
from codeintel_assets.storage.ledger import ledger_digest, read_ledgers

NODES_TABLE = "graph.call_graph_nodes"

# Static rules that follow the file's own name bindings (defs, imports, module globals) and
# the MRO: where they disagree with SCIP, they win. On django 5.2.19 scip-python names a
# re-exported class or function wrongly at such sites (`models.CheckConstraint(...)` as
# UniqueConstraint, `messages.error` as add_message: 114 of the 126 disagreements), while
# value-flow rules lose to pyright's type inference.
BINDING_RULES = frozenset({"local_name", "enclosing_scope", "module_global", "import_alias",
                           "star_import", "constructor", "super"})

NODES_SQL = """
SELECT g.repo, g."commit", g.goid, g.kind, g.qualname, g.rel_path, g.module, g.start_line,
       d.arity,
       list_bool_and(list_transform(string_split(g.qualname, '.'),
           lambda p: p <> '<locals>' AND NOT (starts_with(p, '_')
                AND NOT regexp_matches(p, '^__.+__(#[0-9]+)?$')))) AS is_public
FROM core.goids g
LEFT JOIN core.definition_refs d ON d.repo = g.repo AND d.rel_path = g.rel_path
                                 AND d.qualname = g.qualname AND d.kind = 'function' 
WHERE g.repo = $repo
ORDER BY g.rel_path, g.start_line, g.qualname
"""

# The SCIP symbol named at each call's name token, if it is a GOID's (one symbol only).
SITES_SQL = """
WITH defined_once AS (
    -- scip-python gives same-named functions nested in different methods of one class one
    -- symbol (several definition occurrences): such a symbol names no single GOID
    SELECT symbol FROM core.scip_occurrences WHERE repo = $repo AND is_definition
    GROUP BY symbol HAVING count(*) = 1
), scip_goids AS (
    SELECT sy.symbol, g.goid
    FROM core.scip_symbols sy
    JOIN defined_once USING (symbol)
    JOIN core.goids g ON g.repo = sy.repo AND g.rel_path = sy.def_rel_path
                     AND g.name_line = sy.def_line AND g.name_col = sy.def_col
    WHERE sy.repo = $repo AND NOT coalesce(sy.is_local, false)
), named AS (
    SELECT o.rel_path, o."commit", o.start_line, o.start_col, min(o.symbol) AS scip_symbol,
           min(sg.goid) AS scip_goid, count(DISTINCT sg.goid) AS n
    FROM core.scip_occurrences o JOIN scip_goids sg ON sg.symbol = o.symbol
    WHERE o.repo = $repo AND NOT o.is_definition
    GROUP BY ALL
), external AS (  -- symbols defined outside the repository (no definition document)
    SELECT o.rel_path, o."commit", o.start_line, o.start_col, min(o.symbol) AS symbol
    FROM core.scip_occurrences o
    WHERE o.repo = $repo AND NOT o.is_definition AND NOT starts_with(o.symbol, 'local ')
      AND NOT EXISTS (SELECT 1 FROM core.scip_symbols sy WHERE sy.repo = o.repo
                      AND sy.symbol = o.symbol AND sy.def_rel_path IS NOT NULL)
    GROUP BY ALL
)
SELECT s.rel_path, s.line, s.col, s."commit", s.caller_qualname, s.callee_name,
       s.is_decorator, s.refs, s.args, coalesce(n.scip_symbol, x.symbol) AS scip_symbol,
       n.scip_goid, x.symbol AS scip_external
FROM core.call_sites s
LEFT JOIN named n ON n.rel_path = s.rel_path AND n.start_line = s.name_line
                 AND n.start_col = s.name_col AND n.n = 1
                 AND n."commit" = s."commit"  -- an index of another snapshot: positions moved
LEFT JOIN external x ON x.rel_path = s.rel_path AND x.start_line = s.name_line
                    AND x.start_col = s.name_col AND x."commit" = s."commit"
WHERE s.repo = $repo
ORDER BY s.rel_path, s.line, s.col
"""
# The same rows when the SCIP tables were never materialized.
SITES_NO_SCIP_SQL = """
SELECT rel_path, line, col, "commit", caller_qualname, callee_name, is_decorator, refs, args,
       NULL AS scip_symbol, NULL::DECIMAL(38,0) AS scip_goid, NULL AS scip_external
FROM core.call_sites WHERE repo = $repo ORDER BY rel_path, line, col
"""

# Qualnames are unique per repository (module names are: extract/naming.py), so no file's rows
# override another's. A stub a .py implements (shadowed_stub) is kept apart: never a target.
GOIDS_SQL = """
SELECT goid, kind, qualname, rel_path, module, shadowed_stub, is_overload FROM core.goids
WHERE repo = $repo
ORDER BY rel_path
"""
FACTS_SQL = """
SELECT qualname, bases, params, return_refs FROM core.definition_refs
WHERE repo = $repo AND kind IN ('class', 'function')
ORDER BY rel_path
"""
ALIASES_SQL = """
SELECT qualname, value_refs FROM core.definition_refs
WHERE repo = $repo AND kind = 'alias'
ORDER BY rel_path
"""
IMPORTS_SQL = """
SELECT module, name, asname, imported, is_star FROM core.imports
WHERE repo = $repo AND scope = 'module' AND module IS NOT NULL
ORDER BY rel_path, lineno
"""
SCIP_ROWS_SQL = "SELECT count(*) FROM core.scip_occurrences WHERE repo = $repo"


@dataclass(frozen=True)
class CallGraph:
    nodes: pa.Table
    edges: call_edges.EdgeWrite
    stats: CallGraphStats


def call_graph(gateway: StorageGateway, repo: str, scip: bool = True, full: bool = False
               ) -> CallGraph:
    """Both tables of `repo`, conformed to the catalog: the nodes whole, the edges as the
    write of the files whose edges changed since the stored rows (every call site is
    resolved again: dispatch, parameter flow and wrappers read the whole repository; see
    call_edges.write_plan), all of them when `full`. `scip`: the SCIP tables exist (else
    static rules only). The cyclic garbage collector is paused
    meanwhile: resolution allocates millions of small acyclic objects, and the collections
    they trigger rescan the growing heap for nothing (a quarter of the CPU on django)."""
    with paused_gc():
        return _call_graph(gateway, repo, scip, full)


def _call_graph(gateway: StorageGateway, repo: str, scip: bool, full: bool) -> CallGraph:
    params = {"repo": repo}
    with gateway.connect() as con:  # one connection: the reads see one state
        nodes = con.sql(NODES_SQL, params=params).to_arrow_table()
        sites = con.sql(SITES_SQL if scip else SITES_NO_SCIP_SQL,
                        params=params).to_arrow_table().to_pylist()
        goid_rows = con.sql(GOIDS_SQL, params=params).to_arrow_table().to_pylist()
        sites += call_implicit.scip_reads(con, params, sites) if scip else []
        linker = _read_linker(con, params, goid_rows)
        properties = call_implicit.Properties.read(con, params, linker)
        abstract = frozenset(q for (q,) in con.sql(call_dispatch.ABSTRACT_SQL,
                                                   params=params).fetchall())
        scip_rows = con.sql(SCIP_ROWS_SQL, params=params).fetchall()[0][0] if scip else 0
        stored = read_ledgers(con, [table(EDGES_TABLE)], repo)[EDGES_TABLE]
    callers = {(r["rel_path"], r["qualname"]): r["goid"] for r in goid_rows}
    goids = {r["goid"]: r for r in goid_rows}
    resolved: list[tuple[dict, list[Callee], dict | None]] = []
    agreement = {True: 0, False: 0, None: 0}  # static rules vs SCIP at SCIP-resolved sites
    dispatch = call_dispatch.Dispatch(linker, properties, abstract)
    memo: dict[tuple, _Local] = {}  # a site's own resolution, by what it depends on
    for site in sites:
        key = (site["refs"], site["scip_goid"], site["scip_external"])
        local = memo.get(key)
        if local is None:
            local = memo[key] = _resolve(site, linker, properties, goids)
        if local.statement:  # a with/for/raise statement: no call of its own
            if local.callees or dispatch.accesses_property(local.refs):  # a subclass's too
                dispatch.note(len(resolved), site, local.refs, None)
                resolved.append((site, local.callees, None))
            continue
        if local.agrees is not _NOT_SCIP:
            agreement[local.agrees] += 1
        dispatch.note(len(resolved), site, local.refs, goids.get(site["scip_goid"]))
        resolved.append((site, local.callees, local.param))
    resolved = call_wrappers.add(call_resolution.parameter_flow(dispatch.apply(resolved),
                                                                linker), linker)
    digests, version = call_edges.file_digests(resolved, callers), call_edges.version()
    full, files, reason = call_edges.write_plan(stored, digests, version, full)
    rows, stats = call_edges.edges(repo, resolved, callers, scip_rows > 0, agreement,
                                   None if full else set(files))
    delta = FileDelta(conform(table(EDGES_TABLE), rows), files, digests, version,
                      sites[0]["commit"] if sites else "", full,
                      planned_against=ledger_digest(stored))
    return CallGraph(conform(table(NODES_TABLE), nodes), call_edges.EdgeWrite(delta, reason),
                     stats)


_NOT_SCIP = object()  # _Local.agrees of a site SCIP does not resolve to a GOID


class _Local(NamedTuple):
    """What one call site resolves to on its own (before dispatch, parameter flow and
    wrappers): the same for every site with the same references and SCIP facts, so it is
    computed once per distinct (refs, scip_goid, scip_external). Read-only: shared."""

    statement: bool  # a with/for/raise statement's implicit calls only
    refs: list[dict]  # the references dispatch reads (`extra` ones too: property accesses)
    callees: list[Callee]
    param: dict | None
    agrees: object  # static rules vs SCIP (True, False, None: no static answer), or _NOT_SCIP


def _resolve(site: dict, linker: Linker, properties, goids: dict) -> _Local:
    """What `site` (a row of SITES_SQL: refs JSON, SCIP symbol, GOID and external name)
    resolves to by itself: its references expanded through containers, the implicit calls of
    its `extra` references and property accessors, and the callees SCIP or the static rules
    name, with whether they agree. Pure: raises only on malformed refs JSON (a defect)."""
    raw = decode(site["refs"]) or []
    refs = call_items.expand(raw, linker)
    extra = [r for r in refs if r.get("extra")]  # what the statement or a builtin calls
    implied = linker.implicit(extra) + properties.callees(refs)  # C(...): __new__ too
    if raw and all(r.get("extra") for r in raw):
        return _Local(True, extra, implied, None, _NOT_SCIP)
    refs = [r for r in refs if not r.get("extra")]
    by_scip = call_resolution.scip_callee(goids.get(site["scip_goid"]), linker)
    agrees = _NOT_SCIP
    if by_scip is not None:
        callee = by_scip
        static = linker.resolve(refs)  # measured against pyright's answer (metadata)
        agrees = static.goid == callee.goid if static.goid is not None else None
        if static.goid in (None, callee.goid):
            callees = [Callee(callee.goid, callee.target, "scip")]
        elif static.via in BINDING_RULES:
            callees = [Callee(static.goid, static.target, static.via, disagrees=callee.target)]
        else:
            callees = [Callee(callee.goid, callee.target, "scip", disagrees=static.target)]
        if static.via == "ambiguous":  # pyright names one of several: keep them all
            callees += [c for c in linker.resolve_all(refs) if c.goid != callee.goid]
    else:
        callees = linker.resolve_all(refs)
        callee = callees[0]
        if (callee.goid is None and callee.via in ("unknown", "inherited_external")
                and site["scip_external"]):
            # pyright knows the receiver's type and it is outside the repository
            target = call_resolution.scip_dotted(site["scip_external"])
            callees = [Callee(None, target, "builtin" if target.startswith("builtins.")
                              else "external")]
    return _Local(False, refs + extra, callees + implied, call_resolution.site_param(refs),
                  agrees)


def repo_linker(gateway: StorageGateway, repo: str) -> Linker:
    """The Linker of `repo` (its definitions, class bases, aliases and module-level imports
    from core.goids, core.definition_refs and core.imports), as the call graph resolves with
    it: what else needs a class's MRO or a re-exported name (tests_ingest's inherited tests)
    uses this one. Raises duckdb.CatalogException when one of those tables does not exist."""
    params = {"repo": repo}
    with gateway.connect() as con:  # one connection: the reads see one state
        goid_rows = con.sql(GOIDS_SQL, params=params).to_arrow_table().to_pylist()
        return _read_linker(con, params, goid_rows)


def stub_implementations(gateway: StorageGateway, repo: str) -> dict[Decimal, Decimal | None]:
    """GOID of each shadowed stub's definition (core.goids.shadowed_stub) -> GOID of the
    definition its name is bound to in the implementation (`pkg@pkg/__init__.pyi.define` ->
    `pkg._impl.define` when `pkg/__init__.py` re-exports it), None where the implementation
    binds it to no definition (a variable: attrs' `frozen = partial(define, ...)`) or not at
    all (a private name only the stub declares). Raises duckdb.CatalogException as
    `repo_linker`."""
    params = {"repo": repo}
    with gateway.connect() as con:  # one connection: the reads see one state
        goid_rows = con.sql(GOIDS_SQL, params=params).to_arrow_table().to_pylist()
        linker = _read_linker(con, params, goid_rows)
    out = {}
    for r in goid_rows:
        if r["shadowed_stub"]:
            value = linker.dotted(implementation_name(r["qualname"], r["module"]))
            out[r["goid"]] = linker.defs[value.qualname][0] \
                if value.qualname in linker.defs and value.kind != "instance" else None
    return out


def _read_linker(con, params: dict, goid_rows: list[dict]) -> Linker:
    return _linker(goid_rows, con.sql(FACTS_SQL, params=params).fetchall(),
                   con.sql(IMPORTS_SQL, params=params).fetchall(),
                   con.sql(ALIASES_SQL, params=params).fetchall())


def _linker(goid_rows: list[dict], facts_rows: list[tuple], import_rows: list[tuple],
            alias_rows: list[tuple] = ()) -> Linker:
    stubs = {r["module"]: r for r in goid_rows if r["shadowed_stub"] and r["kind"] == "module"}
    goid_rows = [r for r in goid_rows if not r["shadowed_stub"]]
    defs = {r["qualname"]: (r["goid"], r["kind"]) for r in goid_rows}
    facts = {q: DefFacts(decode(b), decode(p), decode(rr)) for q, b, p, rr in facts_rows}
    imports: dict[str, dict[str, str]] = {}
    stars: dict[str, list[str]] = {}
    for module, name, asname, imported, is_star in import_rows:
        if is_star:
            stars.setdefault(module, []).append(imported)
        elif asname:
            imports.setdefault(module, {})[asname] = imported
        elif name == imported:  # `import a.b` binds `a`
            head = name.split(".")[0]
            imports.setdefault(module, {})[head] = head
        else:
            imports.setdefault(module, {})[name] = imported
    packages = {r["module"].split(".")[0] for r in goid_rows if r["module"]}
    aliases, items = {}, {}
    for q, refs in alias_rows:  # the last assignment wins
        aliases[q], items[q] = split_items(decode(refs))
    aliases = {q: refs for q, refs in aliases.items() if refs}
    # A name in a shadowed stub (its own references) means the implementation's name.
    implementations = {m: implementation_name(m, m) for m in stubs}
    linker = FlowLinker(defs, facts, imports, stars, packages, aliases, implementations)
    linker.items = {q: refs for q, refs in items.items() if refs}
    return linker


def stored_stats(gateway: StorageGateway, repo: str) -> CallGraphStats:
    """CallGraphStats of the stored edges (what the resolved-share check reads)."""
    row = gateway.query("""
        WITH sites AS (  -- a site's implicit callees (with, for, a sorted key) aside
            SELECT count(callee_goid) > 0 AS in_repo,
                   bool_or(resolved_via = 'scip') AS by_scip,
                   bool_or(callee_goid IS NULL AND kind = 'direct') AS external,
                   bool_or(resolved_via = 'ambiguous') AS ambiguous,
                   bool_or(kind = 'unresolved' AND resolved_via <> 'ambiguous') AS unknown
            FROM graph.call_graph_edges WHERE repo = $repo
            GROUP BY callsite_path, callsite_line, callsite_col
            HAVING bool_or(kind <> 'implicit')
        )
        SELECT count(*) AS call_sites,
               count(*) FILTER (WHERE in_repo) AS in_repo,
               count(*) FILTER (WHERE by_scip) AS by_scip,
               count(*) FILTER (WHERE external AND NOT in_repo) AS external,
               count(*) FILTER (WHERE ambiguous) AS ambiguous,
               count(*) FILTER (WHERE unknown) AS unknown,
               count(*) FILTER (WHERE by_scip) > 0 AS scip_available
        FROM sites""", {"repo": repo}).to_pylist()[0]
    return CallGraphStats(**row)
