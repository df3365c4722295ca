"""The summary's read: rows per table, the most complex files and the riskiest functions of one
repository, and how much vendored code the rankings left out (`codeintel-assets summary`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway


@dataclass(frozen=True)
class RiskyFunction:
    """One function of analytics.goid_risk_factors: where it is, its score and level, and the
    details of the (up to three) components that contributed most (risk_explanation)."""

    qualname: str
    rel_path: str
    lineno: int
    risk_score: float
    risk_level: str
    reasons: list[str]


@dataclass(frozen=True)
class VendoredLeftOut:
    """What the rankings left out as vendored (core.file_state.is_vendored): its Python files,
    their functions (analytics.goid_risk_factors rows) and their diagnostics
    (analytics.diagnostics rows, every tool and severity)."""

    files: int = 0
    functions: int = 0
    diagnostics: int = 0


@dataclass(frozen=True)
class LineCoverage:
    """The repository's line coverage in analytics.coverage_lines, counted as coverage.py's
    report counts it (statements, the covered ones, the reported files that have statements)
    and the commit of the test run the rows come from."""

    statements: int
    covered: int
    files: int
    commit: str

    @property
    def percent(self) -> float:
        """covered / statements * 100 (100.0 when there are no statements, as coverage.py)."""
        return 100.0 * self.covered / self.statements if self.statements else 100.0


@dataclass(frozen=True)
class RepoSummary:
    """rows: table -> the repository's row count (tables that exist); most_complex_files:
    (rel_path, complexity, loc) of core.ast_metrics, most complex first, at most ten;
    riskiest_functions: the ten highest risk_score rows outside test code (empty before
    risk_factors ran); python_files: the repository's Python files in core.file_state (None
    before the first scan); vendored: what both rankings left out as vendored code (None when
    they include it); line_coverage: None without coverage rows."""

    rows: dict[str, int]
    most_complex_files: list[tuple[str, int, int]]
    riskiest_functions: list[RiskyFunction]
    python_files: int | None = None
    vendored: VendoredLeftOut | None = None
    line_coverage: LineCoverage | None = None


def repo_summary(gateway: StorageGateway, repo: str, tables: Sequence[str],
                 include_vendored: bool = False) -> RepoSummary:
    """Row counts of `repo` in each of `tables` that exists, its ten most complex files and ten
    riskiest functions outside tests, vendored files and functions left out unless
    `include_vendored`; read on one connection (read-only when the file exists; it waits for
    a running write). A warehouse written before vendored code was tagged ranks everything."""
    with gateway.connect(read_only=gateway.db_path.exists()) as con:
        columns = {f"{s}.{t}.{c}" for s, t, c in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        ).fetchall()}
        existing = {c.rsplit(".", 1)[0] for c in columns}
        tagged = not include_vendored and "core.file_state.is_vendored" in columns
        own = "NOT coalesce(f.is_vendored, false)" if tagged else "true"
        # Table names come from the catalog (`tables`), never from a caller's string.
        counts = {name: con.execute(f"SELECT count(*) FROM {table(name).qualified_name} "
                                    "WHERE repo = $repo", {"repo": repo}).fetchall()[0][0]
                  for name in tables if name in existing}
        state = "LEFT JOIN core.file_state f ON f.repo = a.repo AND f.rel_path = a.rel_path" \
            if tagged else ""
        complex_files = con.execute(
            f"SELECT a.rel_path, a.complexity, a.loc FROM core.ast_metrics a {state} "
            f"WHERE a.repo = $repo AND {own} ORDER BY a.complexity DESC, a.rel_path LIMIT 10",
            {"repo": repo}).fetchall() if "core.ast_metrics" in existing else []
        risk_tagged = tagged and "analytics.goid_risk_factors.is_vendored" in columns
        risky = con.execute(f"""
            SELECT qualname, rel_path, lineno, risk_score, risk_level,
                   json_extract_string(risk_explanation, '$.drivers[*].detail')[1:3]
            FROM analytics.goid_risk_factors WHERE repo = $repo AND NOT is_test
            {'AND NOT is_vendored' if risk_tagged else ''}
            ORDER BY risk_score DESC, rel_path, lineno LIMIT 10""", {"repo": repo}).fetchall() \
            if "analytics.goid_risk_factors" in existing else []
        python_files = con.execute(
            "SELECT count(*) FROM core.file_state WHERE repo = $repo AND language = 'python'",
            {"repo": repo}).fetchall()[0][0] if "core.file_state" in existing else None
        vendored = None
        if tagged:
            def count(sql: str, needs: str) -> int:
                return con.execute(sql, {"repo": repo}).fetchall()[0][0] \
                    if needs in existing else 0
            vendored = VendoredLeftOut(
                count("SELECT count(*) FROM core.file_state WHERE repo = $repo AND is_vendored"
                      " AND language = 'python'", "core.file_state"),
                count("SELECT count(*) FROM analytics.goid_risk_factors WHERE repo = $repo "
                      "AND is_vendored", "analytics.goid_risk_factors") if risk_tagged else 0,
                count("SELECT count(*) FROM analytics.diagnostics d JOIN core.file_state f "
                      "ON f.repo = d.repo AND f.rel_path = d.rel_path WHERE d.repo = $repo "
                      "AND f.is_vendored", "analytics.diagnostics"))
        covered = con.execute("""
            SELECT count(*) FILTER (WHERE is_executable), count(*) FILTER (WHERE is_covered),
                   count(DISTINCT rel_path), any_value("commit")
            FROM analytics.coverage_lines WHERE repo = $repo""", {"repo": repo}).fetchall()[0] \
            if counts.get("analytics.coverage_lines") else None
    return RepoSummary(counts, [tuple(r) for r in complex_files],
                       [RiskyFunction(*r) for r in risky], python_files, vendored,
                       LineCoverage(*covered) if covered else None)
