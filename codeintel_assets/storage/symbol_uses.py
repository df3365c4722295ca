"""Symbol uses: graph.symbol_use_edges of one repository, from its SCIP occurrences, computed
inside DuckDB. No Dagster.

A use is a SCIP occurrence without the definition role (reads, writes, imports) of a symbol the
repository defines (core.scip_symbols.def_rel_path not NULL, not `local N`), except on the name
token of a definition of core.goids (a property setter's name is an occurrence of the getter's
symbol without the definition role). Each use is
attributed to the innermost module, class, function or method of core.goids whose lines,
from its name line (`def`/`class` line; line 1 for a module) to its end line, contain the
occurrence's line in the same file. Decorator lines lie before the name line: a decorator is
evaluated in the enclosing scope, and its uses belong to that scope, as in Python. Lines are the
unit: two definitions on one line resolve to the one of the shorter span (then the later name
line, then the smaller goid), whatever the column.

The innermost definition per line is found linearly: every definition is exploded into the
lines it spans (lines x nesting depth rows, about 2M for django), arg_min by span keeps one
owner per (file, line), and occurrences join it on equality (file, line). A range join of
occurrences against all definitions of their file would cost occurrences x definitions per
file instead.

def_goid is the GOID whose core.goid_crosswalk.scip_symbol is the symbol; when several share
it (a property setter's name token is an occurrence of the getter's symbol), the one whose name
token is the symbol's definition occurrence wins, then the smallest goid. pyright prefers a
`.pyi` stub to the `.py` beside it, so SCIP names the stub's symbols at most uses of such a
package; a stub the .py implements never runs, so a def_goid in it becomes the definition its
name is bound to in the implementation (storage/callgraph.py: stub_implementations, through
re-exports), or NULL where the implementation binds the name to no definition (a variable)
or not at all: def_goid never names such a stub, as no call edge does.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.storage.callgraph import stub_implementations
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway, conform

EDGES_TABLE = "graph.symbol_use_edges"
# What the step reads (its asset deps must be exactly these).
READS = ("core.scip_symbols", "core.scip_occurrences", "core.goids", "core.goid_crosswalk",
         "core.definition_refs", "core.imports")  # the last two: a stub's implementation

SYMBOL_USES_SQL = """
WITH sym AS (
    SELECT symbol, any_value(def_rel_path) AS def_rel_path
    FROM core.scip_symbols
    WHERE repo = $repo AND NOT is_local AND def_rel_path IS NOT NULL
      AND NOT starts_with(symbol, 'local ')
    GROUP BY symbol
), occ AS (
    SELECT o.rel_path, o.start_line AS line, o.symbol, count(*) AS n
    FROM core.scip_occurrences o SEMI JOIN sym s ON s.symbol = o.symbol
    -- The name token of a redefinition (a property setter) is an occurrence of the first
    -- definition's symbol without the definition role: a definition still, not a use.
    ANTI JOIN core.goids g
      ON g.repo = o.repo AND g.rel_path = o.rel_path AND g.name_line = o.start_line
     AND g.name_col = o.start_col AND g.kind <> 'module'
    WHERE o.repo = $repo AND NOT o.is_definition
    GROUP BY ALL
), defs AS (
    SELECT goid, rel_path, module, name_line, end_line, end_line - name_line AS span
    FROM core.goids WHERE repo = $repo AND end_line >= name_line
), lines AS (
    SELECT DISTINCT rel_path, line FROM occ
), owner AS (
    -- Only the lines that hold occurrences: definitions exploded into their lines, joined
    -- on equality, one owner per line (the innermost: the shortest span).
    SELECT d.rel_path, t.line, arg_min(d.goid, (d.span, -d.name_line, d.goid)) AS use_goid
    FROM defs d, unnest(generate_series(d.name_line, d.end_line)) AS t(line)
    SEMI JOIN lines l ON l.rel_path = d.rel_path AND l.line = t.line
    GROUP BY d.rel_path, t.line
), file_module AS (
    SELECT rel_path, any_value(module) AS module FROM core.goids
    WHERE repo = $repo AND kind = 'module' GROUP BY rel_path
), def_goid AS (
    SELECT x.scip_symbol AS symbol,
           arg_min(x.goid, (NOT (g.rel_path = s.def_rel_path AND g.name_line = s.def_line
                                 AND g.name_col = s.def_col), x.goid)) AS def_goid
    FROM core.goid_crosswalk x
    JOIN core.goids g ON g.repo = x.repo AND g.goid = x.goid
    JOIN core.scip_symbols s ON s.repo = x.repo AND s.symbol = x.scip_symbol AND s.document = ''
    WHERE x.repo = $repo AND x.scip_symbol IS NOT NULL
    GROUP BY x.scip_symbol
)
SELECT $repo AS repo, o.symbol, s.def_rel_path, dg.def_goid, o.rel_path AS use_rel_path,
       ow.use_goid, sum(o.n)::INTEGER AS use_count,
       o.rel_path = s.def_rel_path AS same_file,
       coalesce(um.module = dm.module, false) AS same_module
FROM occ o
JOIN sym s USING (symbol)
LEFT JOIN owner ow ON ow.rel_path = o.rel_path AND ow.line = o.line
LEFT JOIN def_goid dg USING (symbol)
LEFT JOIN file_module um ON um.rel_path = o.rel_path
LEFT JOIN file_module dm ON dm.rel_path = s.def_rel_path
GROUP BY ALL
ORDER BY o.symbol, use_rel_path, ow.use_goid
"""

COMMIT_SQL = """
SELECT coalesce((SELECT max("commit") FROM core.scip_occurrences WHERE repo = $repo),
                (SELECT max("commit") FROM core.goids WHERE repo = $repo), '') AS "commit"
"""


@dataclass(frozen=True)
class SymbolUses:
    """graph.symbol_use_edges rows of one repository (catalog schema) and what was left out.

    occurrences: non-definition occurrences of in-repository symbols (the uses counted);
    unattributed: those of them in lines no GOID spans (a file without core.goids rows: a
    syntax error, or not scanned), left out of `edges` because use_goid is part of the key;
    scip_rows: the repository's core.scip_occurrences rows (0: SCIP disabled or empty)."""

    edges: pa.Table
    occurrences: int
    unattributed: int
    scip_rows: int

    def as_metadata(self) -> dict[str, int | str]:
        meta: dict[str, int | str] = {
            "uses": self.occurrences, "unattributed_uses": self.unattributed,
            "scip_occurrences": self.scip_rows,
            "edges_with_def_goid": int(pc.sum(pc.is_valid(self.edges["def_goid"])).as_py() or 0),
            "cross_file_edges": int(pc.sum(pc.invert(self.edges["same_file"])).as_py() or 0),
        }
        if not self.scip_rows:
            meta["skipped"] = ("core.scip_occurrences has no rows for this repository (scip-python "
                               "disabled or it indexed nothing): no symbol uses")
        return meta


def symbol_uses(gateway: StorageGateway, repo: str) -> SymbolUses:
    """graph.symbol_use_edges of `repo` (a whole-repository table) from its core.scip_symbols,
    core.scip_occurrences, core.goids and core.goid_crosswalk rows (see SYMBOL_USES_SQL)."""
    params = {"repo": repo}
    with gateway.connect() as con:  # one connection: the reads see one state
        rows = con.sql(SYMBOL_USES_SQL, params=params).to_arrow_table()
        commit = con.sql(COMMIT_SQL, params=params).to_arrow_table().column(0)[0].as_py()
        scip_rows = con.execute("SELECT count(*) FROM core.scip_occurrences WHERE repo = $repo",
                                params).fetchall()[0][0]
    implementations = stub_implementations(gateway, repo)
    if implementations:
        rows = rows.set_column(
            rows.schema.get_field_index("def_goid"), "def_goid",
            pa.array([implementations.get(g, g) for g in rows["def_goid"].to_pylist()],
                     rows.schema.field("def_goid").type))
    attributed = pc.is_valid(rows["use_goid"])
    total = int(pc.sum(rows["use_count"]).as_py() or 0)
    edges = rows.filter(attributed)
    kept = int(pc.sum(edges["use_count"]).as_py() or 0)
    edges = edges.append_column("commit", pa.array([commit] * len(edges), pa.string()))
    return SymbolUses(conform(table(EDGES_TABLE), edges), total, total - kept, int(scip_rows))
