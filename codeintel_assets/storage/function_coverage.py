"""Coverage per function and per (test, function): analytics.coverage_functions and
analytics.test_coverage_edges of one repository, from analytics.coverage_lines (coverage.py
with per-test contexts, the shared test run), core.goids and analytics.test_catalog, computed
inside DuckDB. No Dagster.

Line ownership: every line of coverage_lines belongs to the innermost module, class, function
or method of core.goids whose own lines contain it; only function and method owners count. A
definition's own lines run from the line after its `def`/`class` line to its end line:

- decorators and the `def` line itself run in the enclosing scope (at import for a module-level
  def, when the class body runs for a method, when the parent runs for a nested def), never
  when the function is called. coverage.py reports them covered whenever the module is
  imported, so counting them would make every imported function look tested. A multi-line
  signature is one statement that coverage.py reports at its first line, so it goes the same
  way.
- a nested def's or class's lines are its own, not its parent's; a line directly in a class
  body is the class's, not a method's.
- a def written on one line (`def f(): return 1`) owns that line: it is covered only when a
  test's context ran it (the import-time run of the def records no test context; a module a
  test imports inside its own body is the exception). The whole span on one line is the only
  case where coverage.py cannot tell the def statement from the body; a body that starts on the
  def line and goes on below it is reported at the def line, so it is the parent's.

The innermost owner per line is found as storage/symbol_uses.py finds it: definitions
exploded into their own lines, semi-joined to the lines coverage has, arg_min by span.

Executable lines are coverage_lines.is_executable (coverage.py's statements after its
default exclusions); covered lines are those of them that ran. A test covers a line when its
node id is in the line's contexts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import Sql, StorageGateway, conform

FUNCTIONS_TABLE = "analytics.coverage_functions"
EDGES_TABLE = "analytics.test_coverage_edges"
# What each step reads (its asset deps must be exactly these).
FUNCTIONS_READS = ("core.goids", "analytics.coverage_lines")
EDGES_READS = ("core.goids", "analytics.coverage_lines", "analytics.test_catalog")

# untested_reason values, in the order they are decided.
NO_COVERAGE_DATA = "no_coverage_data"  # no test run of this snapshot (none, or of another commit)
FILE_NOT_MEASURED = "file_not_measured"  # coverage.py never saw the file (never imported)
NO_EXECUTABLE_LINES = "no_executable_lines"  # nothing of its own is a statement (a docstring)
NOT_EXECUTED = "not_executed"  # none of its executable lines ran

# The coverage rows of this snapshot; without any (the table never written, or written for
# another commit) the same columns, no rows.
_COVERAGE = """
SELECT rel_path, line, is_executable, is_covered, contexts FROM analytics.coverage_lines
WHERE repo = $repo AND "commit" = $commit
"""
_NO_COVERAGE = """
SELECT NULL::VARCHAR AS rel_path, NULL::INTEGER AS line, NULL::BOOLEAN AS is_executable,
       NULL::BOOLEAN AS is_covered, NULL::JSON AS contexts WHERE false
"""

# own_lines: (goid, line, covered, contexts) for every executable line a function or method
# owns; per_function: its counts.
_OWNERSHIP = """
WITH cov AS ({coverage}
), defs AS (
    SELECT goid, rel_path, kind,
           CASE WHEN end_line > name_line THEN name_line + 1 ELSE name_line END AS own_start,
           end_line, end_line = name_line AS one_line
    FROM core.goids WHERE repo = $repo AND kind <> 'module' AND end_line >= name_line
), owner AS (
    SELECT d.rel_path, t.line,
           arg_min(d.goid, (d.end_line - d.own_start, -d.own_start, d.goid)) AS goid
    FROM defs d, unnest(generate_series(d.own_start, d.end_line)) AS t(line)
    SEMI JOIN cov c ON c.rel_path = d.rel_path AND c.line = t.line
    GROUP BY d.rel_path, t.line
), own_lines AS (
    SELECT o.goid, o.line, c.contexts,
           c.is_covered AND (NOT d.one_line OR json_array_length(c.contexts) > 0) AS covered
    FROM owner o
    JOIN defs d ON d.goid = o.goid AND d.kind IN ('function', 'method')
    JOIN cov c ON c.rel_path = o.rel_path AND c.line = o.line
    WHERE c.is_executable
), line_tests AS (
    SELECT goid, line, unnest(from_json(contexts, '["VARCHAR"]')) AS test_id
    FROM own_lines WHERE covered
), per_function AS (
    SELECT goid, count(*) AS executable_lines, count(*) FILTER (WHERE covered) AS covered_lines
    FROM own_lines GROUP BY goid
)"""

FUNCTIONS_SQL = _OWNERSHIP + """, tests AS (
    SELECT goid, count(DISTINCT test_id) AS test_count FROM line_tests GROUP BY goid
), measured AS (
    SELECT DISTINCT rel_path FROM cov
)
SELECT g.repo, g."commit", g.goid, g.rel_path, g.qualname,
       coalesce(p.executable_lines, 0)::INTEGER AS executable_lines,
       coalesce(p.covered_lines, 0)::INTEGER AS covered_lines,
       (p.covered_lines / nullif(p.executable_lines, 0))::DOUBLE AS coverage_ratio,
       coalesce(t.test_count, 0)::INTEGER AS test_count,
       coalesce(p.covered_lines, 0) > 0 AS tested,
       CASE WHEN coalesce(p.covered_lines, 0) > 0 THEN NULL
            WHEN NOT $has_data THEN 'no_coverage_data'
            WHEN m.rel_path IS NULL THEN 'file_not_measured'
            WHEN coalesce(p.executable_lines, 0) = 0 THEN 'no_executable_lines'
            ELSE 'not_executed' END AS untested_reason
FROM core.goids g
LEFT JOIN per_function p USING (goid)
LEFT JOIN tests t USING (goid)
LEFT JOIN measured m ON m.rel_path = g.rel_path
WHERE g.repo = $repo AND g.kind IN ('function', 'method')
  AND NOT g.shadowed_stub AND NOT g.is_overload  -- never run: core.goids
ORDER BY g.rel_path, g.start_line, g.qualname
"""

_TESTS = "SELECT test_id, test_goid, status FROM analytics.test_catalog WHERE repo = $repo"
_NO_TESTS = ("SELECT NULL::VARCHAR AS test_id, NULL::DECIMAL(38,0) AS test_goid, "
             "NULL::VARCHAR AS status WHERE false")

EDGES_SQL = _OWNERSHIP + """, tests AS ({tests}
), edges AS (
    SELECT test_id, goid, count(DISTINCT line) AS covered_lines FROM line_tests GROUP BY ALL
)
SELECT g.repo, g."commit", e.test_id, e.goid, g.rel_path, g.qualname, t.test_goid,
       e.covered_lines::INTEGER AS covered_lines,
       p.executable_lines::INTEGER AS executable_lines,
       (e.covered_lines / p.executable_lines)::DOUBLE AS coverage_ratio,
       t.status AS last_status
FROM edges e
JOIN core.goids g ON g.repo = $repo AND g.goid = e.goid
JOIN per_function p ON p.goid = e.goid
LEFT JOIN tests t ON t.test_id = e.test_id
"""

_STATE_SQL = """
SELECT coalesce((SELECT max("commit") FROM core.goids WHERE repo = $repo), '') AS "commit"
"""
_COVERAGE_COMMITS_SQL = """
SELECT "commit", count(*) AS n FROM analytics.coverage_lines WHERE repo = $repo GROUP BY ALL
"""


@dataclass(frozen=True)
class CoverageInput:
    """What analytics.coverage_lines holds for the snapshot core.goids describes.

    commit: core.goids' commit. has_data: coverage rows of that commit exist. stale_commit:
    the commit the stored coverage rows describe when it is another one (a test run of an
    earlier snapshot: a run that refused to start the suite keeps the old rows), else None.
    rows: coverage rows of the snapshot."""

    commit: str
    has_data: bool
    stale_commit: str | None
    rows: int

    def as_metadata(self) -> dict[str, int | str]:
        meta: dict[str, int | str] = {"coverage_rows": self.rows}
        if self.stale_commit is not None:
            meta["skipped"] = (f"analytics.coverage_lines describes commit {self.stale_commit}, "
                               f"not {self.commit or 'this snapshot'}: no coverage data")
        elif not self.has_data:
            meta["skipped"] = ("analytics.coverage_lines has no rows for this repository (no "
                               "test run, or the suite collected nothing): no coverage data")
        return meta


@dataclass(frozen=True)
class FunctionCoverage:
    """analytics.coverage_functions rows of one repository (catalog schema) and its input."""

    functions: pa.Table
    coverage: CoverageInput

    def as_metadata(self) -> dict[str, int | str]:
        reasons = self.functions.column("untested_reason").value_counts().to_pylist()
        return {**self.coverage.as_metadata(), "functions": len(self.functions),
                "tested": int(pc.sum(self.functions["tested"]).as_py() or 0),
                **{f"untested_{r['values']}": r["counts"] for r in reasons
                   if r["values"] is not None}}


def coverage_input(gateway: StorageGateway, repo: str, coverage_exists: bool) -> CoverageInput:
    """The state of `repo`'s coverage rows against its core.goids snapshot;
    `coverage_exists`: analytics.coverage_lines was ever written (else no data)."""
    params = {"repo": repo}
    with gateway.connect() as con:
        commit = con.sql(_STATE_SQL, params=params).fetchall()[0][0]
        counts = dict(con.sql(_COVERAGE_COMMITS_SQL, params=params).fetchall()) \
            if coverage_exists else {}
    rows = counts.get(commit, 0)
    others = sorted(c for c in counts if c != commit)
    return CoverageInput(commit, rows > 0, others[-1] if others and not rows else None, rows)


def _sql(template: str, coverage: CoverageInput, repo: str, **parts: str) -> Sql:
    query = template.format(coverage=_COVERAGE if coverage.has_data else _NO_COVERAGE, **parts)
    params: dict[str, object] = {"repo": repo, "has_data": coverage.has_data}
    if coverage.has_data:
        params["commit"] = coverage.commit
    return Sql(query, {k: v for k, v in params.items() if f"${k}" in query})


def coverage_functions(gateway: StorageGateway, repo: str, coverage_exists: bool
                       ) -> FunctionCoverage:
    """analytics.coverage_functions of `repo` (a whole-repository table): one row per function
    and method GOID of core.goids, with the lines it owns in analytics.coverage_lines (see the
    module docstring). Without coverage rows of core.goids' commit every row is untested with
    untested_reason 'no_coverage_data' and coverage_ratio NULL."""
    coverage = coverage_input(gateway, repo, coverage_exists)
    sql = _sql(FUNCTIONS_SQL, coverage, repo)
    with gateway.connect() as con:
        rows = con.sql(sql.query, params=sql.params).to_arrow_table()
    return FunctionCoverage(conform(table(FUNCTIONS_TABLE), rows), coverage)


def test_coverage_edges(gateway: StorageGateway, repo: str, coverage_exists: bool,
                        catalog_exists: bool) -> tuple[Sql, CoverageInput]:
    """analytics.test_coverage_edges of `repo` as a SELECT the gateway runs inside DuckDB (the
    table is tests x functions: it never passes through Python): one row per (test node id,
    function or method GOID) where the test ran one of the function's executable lines, with
    test_goid and last_status from analytics.test_catalog (NULL when the catalog has no such
    test, or was never written: `catalog_exists`). No rows without coverage data."""
    coverage = coverage_input(gateway, repo, coverage_exists)
    return _sql(EDGES_SQL, coverage, repo,
                tests=_TESTS if catalog_exists else _NO_TESTS), coverage


setattr(test_coverage_edges, "__test__", False)  # noqa: B010 - a library function, not a test
