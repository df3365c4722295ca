"""SQL-derived tables: SELECTs the gateway runs inside DuckDB (`INSERT INTO t BY NAME ...`),
so big joins never pass through Python. Each function returns a `gateway.Sql` whose values are
bound as named parameters ($repo), never spliced into the text.
"""

from __future__ import annotations

import pyarrow as pa

from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import FileDelta, Sql, StorageGateway, conform

CONFIG_TABLE = "analytics.config_values"
LITERALS_TABLE = "core.string_literals"

CROSSWALK_SQL = """
-- Every join is an equality join on the exact token position (file, kind, line; file, line,
-- column), so it stays linear in the definitions of a file: a module matches on a position
-- no definition has (line 0 for its LibCST node, 1:0 for its SCIP definition), and what
-- equality cannot say is a residual filter on the few candidates of one position.
WITH cst AS (
    SELECT rel_path, node_id, kind, start_col,
           CASE kind WHEN 'Module' THEN 0 ELSE start_line END AS join_line
    FROM core.cst_nodes WHERE repo = $repo AND kind IN ('Module', 'ClassDef', 'FunctionDef')
), occ AS (
    -- A redefinition (a property setter, say) has no SCIP definition of its own: its name
    -- token is an occurrence of the first definition's symbol, which is the right symbol.
    SELECT rel_path, start_line, start_col, symbol, is_definition
    FROM core.scip_occurrences WHERE repo = $repo AND NOT starts_with(symbol, 'local ')
), g AS (
    SELECT *,
           CASE kind WHEN 'module' THEN 'Module' WHEN 'class' THEN 'ClassDef'
                     ELSE 'FunctionDef' END AS cst_kind,
           CASE kind WHEN 'module' THEN 0 ELSE name_line END AS cst_line,
           CASE kind WHEN 'module' THEN 1 ELSE name_line END AS occ_line,
           CASE kind WHEN 'module' THEN 0 ELSE name_col END AS occ_col
    FROM core.goids WHERE repo = $repo
)
SELECT g.repo, g.commit, g.goid, g.urn, g.module, g.rel_path, g.start_line, g.end_line,
       g.ast_node_id,
       c.node_id AS cst_node_id,
       s.symbol AS scip_symbol,
       CASE WHEN c.node_id IS NOT NULL AND s.symbol IS NOT NULL THEN 'exact'
            WHEN c.node_id IS NOT NULL OR s.symbol IS NOT NULL THEN 'partial'
            ELSE 'none' END AS match_status
FROM g
LEFT JOIN cst c
  ON c.rel_path = g.rel_path AND c.kind = g.cst_kind AND c.join_line = g.cst_line
 AND (g.kind = 'module' OR c.start_col < g.name_col)
LEFT JOIN occ s
  ON s.rel_path = g.rel_path AND s.start_line = g.occ_line AND s.start_col = g.occ_col
 AND (g.kind <> 'module' OR (s.is_definition AND s.symbol LIKE '%/__init__:'))
QUALIFY row_number() OVER (PARTITION BY g.goid
                           ORDER BY c.start_col DESC, s.is_definition DESC, s.symbol) = 1
"""


def crosswalk(repo: str) -> Sql:
    """core.goid_crosswalk of `repo`: each GOID with the LibCST node and SCIP symbol of its
    definition (see CROSSWALK_SQL)."""
    return Sql(CROSSWALK_SQL, {"repo": repo})


# References of config keys to Python files, over `cv` (config_values rows plus an `_order`
# column) and `lit` (rel_path, module, literal): a key is named by its full keypath and by its
# last segment that is neither empty nor all ASCII digits (`extract.config_references.key_names`).
# A hash join on the literal: linear in keys plus literals, never keys times files.
REFERENCES_SQL = """
names AS (
    SELECT DISTINCT config_path, key, name
    FROM cv, unnest([key, list_filter(string_split(key, '.'),
                                      lambda s: s <> '' AND NOT regexp_full_match(s, '[0-9]+'))[-1]]
                    ) AS t(name)
    WHERE key <> '' AND name IS NOT NULL
), refs AS (
    SELECT n.config_path, n.key,
           to_json(list_sort(list_distinct(list(l.rel_path)))) AS reference_paths,
           to_json(list_sort(list_distinct(list(l.module)))) AS reference_modules,
           count(DISTINCT CASE WHEN l.module IS NULL THEN 'p:' || l.rel_path
                               ELSE 'm:' || l.module END) AS reference_count
    FROM names n JOIN lit l ON l.literal = n.name
    GROUP BY n.config_path, n.key
)
SELECT cv.* EXCLUDE (_order) REPLACE (
           coalesce(r.reference_paths, '[]') AS reference_paths,
           coalesce(r.reference_modules, '[]') AS reference_modules,
           coalesce(r.reference_count, 0) AS reference_count)
FROM cv LEFT JOIN refs r ON r.config_path = cv.config_path AND r.key = cv.key
ORDER BY cv._order, cv.config_path, cv.key
"""


def references_query(config: str, literals: str) -> str:
    """REFERENCES_SQL over the SELECTs `config` (config_values rows with `_order`) and
    `literals` (rel_path, module, literal); both are this module's own text, never input."""
    return f"WITH cv AS ({config}), lit AS ({literals}), {REFERENCES_SQL}"


def config_values_with_references(gateway: StorageGateway, repo: str, config: FileDelta
                                  ) -> pa.Table:
    """Every analytics.config_values row of `repo` once `config` is applied (the stored rows it
    keeps plus its new ones), with reference_paths / reference_modules / reference_count
    matched inside DuckDB against the stored core.string_literals (repo_scan's one pass
    writes them before this step runs; no literals table: no references). A Python change can
    add a reference to any key, so this is the whole table, for a full write."""
    params: dict = {}
    values = "SELECT *, 0 AS _order FROM new_values"
    lits = ("SELECT NULL::VARCHAR AS rel_path, NULL::VARCHAR AS module, "
            "NULL::VARCHAR AS literal WHERE false")
    if not config.full and gateway.table_exists(table(CONFIG_TABLE)):
        values += (f" UNION ALL BY NAME SELECT *, 0 AS _order FROM {CONFIG_TABLE} "
                   "WHERE repo = $repo AND NOT list_contains($config_gone, config_path)")
        params.update(repo=repo, config_gone=list(config.to_delete))
    if gateway.table_exists(table(LITERALS_TABLE)):
        lits = f"SELECT rel_path, module, literal FROM {LITERALS_TABLE} WHERE repo = $repo"
        params.update(repo=repo)
    out = gateway.query(references_query(values, lits), params, {"new_values": config.rows})
    return conform(table(CONFIG_TABLE), out)
