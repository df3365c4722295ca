"""Risk factors: analytics.goid_risk_factors of one repository, computed inside DuckDB from the
function layer's tables. No Dagster.

Each function or method of analytics.function_metrics gets seven component risks in [0, 1]
(the formulas are the columns' descriptions in storage/catalog_history.py):

- complexity: cyclomatic and cognitive complexity (function_metrics); 0.49 at cyclomatic 11 or
  cognitive 15 (SonarSource's default limit), approaching 1 from there;
- coverage: the share of its own executable lines no test ran (coverage_functions);
- typedness: untyped 1, partial 0.5 (function_types);
- static errors: type errors (pyright, pyrefly) and lint errors (ruff, its style linters
  excepted: analytics.diagnostics.category) of severity error on its own lines, 1 - 0.5^n;
  style findings are named in the explanation only;
- churn and hotspot: its file's history in the window (hotspots);
- failing tests: a test that ran it failed (test_coverage_edges) for the code's reasons. A
  failure whose message (analytics.test_catalog.message) says a module outside the repository
  is missing (`ModuleNotFoundError: No module named 'hypothesis'`) or a fixture is not found
  (a plugin that is not installed) is the environment's: it is counted as
  environment_failing_tests and named in the explanation, not scored.

risk_score is their weighted mean over the components that have data (no test run leaves
coverage and failing tests unknown, as too little history, no file changed in MIN_COMMITS
commits, leaves churn and hotspot: they are listed under `unknown` with their reasons and the
other weights count in full), so it stays in [0, 1]. Weights and level thresholds are
`RiskWeights`, set per run in the launchpad (the risk_factors step's config).
"""

from __future__ import annotations

from dataclasses import dataclass

from codeintel_assets.storage.gateway import Sql
from codeintel_assets.storage.views_functions import FILE_TAGS

RISK_TABLE = "analytics.goid_risk_factors"
# What the step reads (its asset deps must be exactly these).
READS = ("analytics.function_metrics", "analytics.function_types",
         "analytics.coverage_functions", "analytics.test_coverage_edges", "analytics.hotspots",
         "analytics.diagnostics", "analytics.tags_index", "core.modules", "core.file_state",
         "analytics.test_catalog")
# History is evidence once some file changed in this many commits of the window (docs/assets.md: risk).
MIN_COMMITS = 2
COMPONENTS = ("complexity", "coverage", "typedness", "static_error", "churn", "hotspot",
              "failing_test")


@dataclass(frozen=True)
class RiskWeights:
    """Weights of the component risks (any non-negative numbers; the score divides by the sum
    of those with data) and the risk_score thresholds of the levels.

    The defaults put complexity and missing tests first, a reviewer's first two questions,
    then recent change (hotspot, churn), and count static errors and failing tests as
    evidence of defects. docs/assets.md: risk says what they were checked against."""

    complexity: float = 0.30
    coverage: float = 0.25
    typedness: float = 0.05
    static_error: float = 0.10
    churn: float = 0.05
    hotspot: float = 0.15
    failing_test: float = 0.10
    high: float = 0.5
    medium: float = 0.3

    def __post_init__(self) -> None:
        weights = [getattr(self, c) for c in COMPONENTS]
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"risk weights must be >= 0 with a positive sum, got {weights}")
        if not 0 <= self.medium <= self.high <= 1:
            raise ValueError(f"risk thresholds need 0 <= medium ({self.medium}) <= high "
                             f"({self.high}) <= 1")


RISK_SQL = """
WITH fm AS (
    SELECT m.*, t.typedness_bucket FROM analytics.function_metrics m
    LEFT JOIN analytics.function_types t ON t.repo = m.repo AND t.goid = m.goid
    WHERE m.repo = $repo
), top_packages AS (
    SELECT DISTINCT split_part(module, '.', 1) AS package FROM core.modules WHERE repo = $repo
), failures AS (
    -- The environment's failures: a missing module that is not the repository's own (a
    -- missing module of its own is the code's bug), or a fixture no installed plugin provides.
    SELECT c.test_id,
           coalesce(nullif(regexp_extract(c.message, 'No module named ''([^''.]+)', 1), '')
                    NOT IN (
                        SELECT package FROM top_packages)
                    AND regexp_matches(c.message, '^(ModuleNotFoundError|ImportError)'), false)
           OR regexp_matches(coalesce(c.message, ''), '^fixture ''[^'']+'' not found')
               AS environment
    FROM analytics.test_catalog c
    WHERE c.repo = $repo AND c.status IN ('failed', 'error')
), tests AS (
    SELECT e.goid, count(*) AS covering_tests,
           count(*) FILTER (WHERE e.last_status IN ('failed', 'error')
                            AND NOT coalesce(f.environment, false)) AS failing_tests,
           count(*) FILTER (WHERE e.last_status IN ('failed', 'error') AND f.environment)
               AS environment_failing_tests
    FROM analytics.test_coverage_edges e
    LEFT JOIN failures f ON f.test_id = e.test_id
    WHERE e.repo = $repo GROUP BY e.goid
), placed AS (
    -- A hash join on the file, then the line range: diagnostics per file are few. A line
    -- belongs to the innermost def spanning it (the latest start), as its complexity does.
    SELECT f.goid, d.line, d.col, d.category
    FROM fm f JOIN analytics.diagnostics d
      ON d.repo = $repo AND d.rel_path = f.rel_path AND d.severity = 'error'
     AND d.line BETWEEN f.lineno AND f.end_lineno
    QUALIFY row_number() OVER (PARTITION BY d.tool, d.rel_path, d.line, d.col, d.code,
                                            d.occurrence ORDER BY f.lineno DESC) = 1
), errors AS (
    -- Distinct positions: pyright and pyrefly often report one problem at the same place.
    SELECT goid,
           count(DISTINCT (line, col)) FILTER (WHERE category <> 'style') AS static_errors,
           count(DISTINCT (line, col)) FILTER (WHERE category = 'type') AS type_errors,
           count(DISTINCT (line, col)) FILTER (WHERE category = 'lint') AS lint_errors,
           count(DISTINCT (line, col)) FILTER (WHERE category = 'style') AS style_findings
    FROM placed GROUP BY goid
), hot AS (
    -- Only read history is evidence: without Git (or refused by it), commits or full history
    -- (a shallow clone), or for a submodule's file, churn and hotspot are unknown, not zero
    -- (history_status; docs/assets.md: risk). Nor is a window in which no file changed twice (one
    -- commit: every file's churn is its size and its hotspot score 1): change frequency then
    -- tells the files nothing.
    SELECT rel_path, churn, commit_count, score,
           CASE WHEN history_status <> 'git' THEN 'history not read (' || history_status || ')'
                WHEN max(commit_count) OVER () < $min_commits THEN printf(
                    'too little history: no file changed in more than %d commit',
                    max(commit_count) OVER ()) END AS history_unknown,
           max(churn) OVER () AS max_churn
    FROM analytics.hotspots WHERE repo = $repo
), mods AS (
    SELECT rel_path, any_value(owners) AS owners
    FROM core.modules WHERE repo = $repo GROUP BY rel_path
), vendored AS (
    SELECT rel_path FROM core.file_state WHERE repo = $repo AND is_vendored
), tags AS (
    SELECT rel_path, tags FROM (""" + FILE_TAGS + """) WHERE repo = $repo
), inputs AS (
    SELECT f.repo, f."commit", f.goid, f.rel_path, f.qualname, f.lineno, f.end_lineno,
           f.cyclomatic_complexity, f.cognitive_complexity, f.loc, f.typedness_bucket,
           c.coverage_ratio, coalesce(c.tested, false) AS tested,
           -- A function without a coverage_functions row had no test run to speak of it.
           CASE WHEN c.goid IS NULL THEN 'no_coverage_data' ELSE c.untested_reason END
               AS untested_reason,
           coalesce(t.covering_tests, 0)::INTEGER AS covering_tests,
           coalesce(t.failing_tests, 0)::INTEGER AS failing_tests,
           coalesce(t.environment_failing_tests, 0)::INTEGER AS environment_failing_tests,
           coalesce(e.static_errors, 0)::INTEGER AS static_errors,
           coalesce(e.type_errors, 0) AS type_errors, coalesce(e.lint_errors, 0) AS lint_errors,
           coalesce(e.style_findings, 0) AS style_findings,
           coalesce(h.churn, 0) AS file_churn, coalesce(h.commit_count, 0) AS file_commits,
           coalesce(h.score, 0.0) AS hotspot_score,
           coalesce(m.owners, '[]')::JSON AS owners, coalesce(tg.tags, '[]')::JSON AS tags,
           coalesce(json_contains(tg.tags, '"tests"'), false) AS is_test,
           v.rel_path IS NOT NULL AS is_vendored,
           h.history_unknown IS NULL AND h.rel_path IS NOT NULL AS history_known,
           CASE WHEN h.rel_path IS NULL THEN 'no history row'
                ELSE h.history_unknown END AS history_unknown,
           coalesce(h.max_churn, 0) AS max_churn, c.covered_lines, c.executable_lines
    FROM fm f
    LEFT JOIN analytics.coverage_functions c ON c.repo = f.repo AND c.goid = f.goid
    LEFT JOIN tests t ON t.goid = f.goid
    LEFT JOIN errors e ON e.goid = f.goid
    LEFT JOIN hot h ON h.rel_path = f.rel_path
    LEFT JOIN mods m ON m.rel_path = f.rel_path
    LEFT JOIN tags tg ON tg.rel_path = f.rel_path
    LEFT JOIN vendored v ON v.rel_path = f.rel_path
), comp AS (
    SELECT *,
        -- Saturating, not capped: 0.49 at cyclomatic 11 / cognitive 15, 0.93 at 41 / 60, so
        -- the most complex functions still rank among themselves.
        greatest(1 - exp(-(cyclomatic_complexity - 1) / 15.0),
                 1 - exp(-cognitive_complexity / 22.0)) AS complexity_risk,
        CASE WHEN untested_reason IS NOT DISTINCT FROM 'no_coverage_data' THEN NULL
             WHEN untested_reason IS NOT DISTINCT FROM 'no_executable_lines' THEN 0.0
             ELSE 1.0 - coalesce(coverage_ratio, 0.0) END AS coverage_risk,
        CASE typedness_bucket WHEN 'untyped' THEN 1.0 WHEN 'partial' THEN 0.5
             ELSE 0.0 END AS typedness_risk,
        1.0 - pow(0.5, static_errors) AS static_error_risk,
        CASE WHEN NOT history_known THEN NULL
             WHEN max_churn > 0 THEN ln(1 + file_churn) / ln(1 + max_churn)
             ELSE 0.0 END AS churn_risk,
        CASE WHEN history_known THEN least(greatest(hotspot_score, 0.0), 1.0)
             END AS hotspot_risk,
        CASE WHEN untested_reason IS NOT DISTINCT FROM 'no_coverage_data' THEN NULL
             WHEN failing_tests > 0 THEN 1.0 ELSE 0.0 END AS failing_test_risk
    FROM inputs
), parts AS (
    SELECT *, [
        {'component': 'complexity', 'score': complexity_risk, 'weight': $w_complexity,
         'detail': printf('cyclomatic %d, cognitive %d', cyclomatic_complexity,
                          cognitive_complexity)},
        {'component': 'coverage', 'score': coverage_risk, 'weight': $w_coverage,
         'detail': CASE WHEN tested THEN printf('%d of %d lines covered', covered_lines,
                                                executable_lines)
                        ELSE 'untested (' || untested_reason || ')' END},
        {'component': 'typedness', 'score': typedness_risk, 'weight': $w_typedness,
         'detail': typedness_bucket},
        {'component': 'static_error', 'score': static_error_risk, 'weight': $w_static_error,
         'detail': printf('%d type errors, %d lint errors', type_errors, lint_errors)
                   || CASE WHEN style_findings > 0 THEN printf(
                          ' (%d style findings not counted)', style_findings) ELSE '' END},
        {'component': 'churn', 'score': churn_risk, 'weight': $w_churn,
         'detail': coalesce(history_unknown, printf('file churn %d lines', file_churn))},
        {'component': 'hotspot', 'score': hotspot_risk, 'weight': $w_hotspot,
         'detail': coalesce(history_unknown, printf('file hotspot score %.2f (%d commits)',
                                                    hotspot_score, file_commits))},
        {'component': 'failing_test', 'score': failing_test_risk, 'weight': $w_failing_test,
         'detail': CASE WHEN failing_test_risk IS NULL THEN 'no test run'
                        ELSE printf('%d of %d covering tests fail', failing_tests,
                                    covering_tests) || CASE WHEN environment_failing_tests > 0
                            THEN printf(' (%d more fail for a missing module or fixture: '
                                        || 'the environment''s, not counted)',
                                        environment_failing_tests) ELSE '' END END}
    ] AS c
    FROM comp
), scored AS (
    SELECT *,
        list_filter(c, lambda x: x.score IS NOT NULL) AS known,
        list_sum(list_transform(list_filter(c, lambda x: x.score IS NOT NULL),
                                lambda x: x.weight)) AS known_weight
    FROM parts
), final AS (
    SELECT *,
        CASE WHEN known_weight > 0 THEN
             list_sum(list_transform(known, lambda x: x.score * x.weight)) / known_weight
             ELSE 0.0 END AS risk_score
    FROM scored
)
SELECT repo, "commit", goid, rel_path, qualname, lineno, end_lineno, cyclomatic_complexity,
       cognitive_complexity, loc, typedness_bucket, coverage_ratio, tested, untested_reason,
       covering_tests, failing_tests, environment_failing_tests, static_errors, file_churn,
       file_commits, hotspot_score, owners, tags, is_test, is_vendored, complexity_risk,
       coverage_risk, typedness_risk, static_error_risk, churn_risk, hotspot_risk,
       failing_test_risk, risk_score,
       CASE WHEN risk_score >= $high THEN 'high' WHEN risk_score >= $medium THEN 'medium'
            ELSE 'low' END AS risk_level,
       to_json({
           -- Largest contribution first: each driver is sorted on its negated
           -- contribution (a struct sorts by its first field), which is then dropped.
           'drivers': list_transform(list_sort(list_transform(
               list_filter(known, lambda x: x.score * x.weight > 0),
               lambda x: {'k': -x.score * x.weight, 'component': x.component,
                          'score': round(x.score, 4), 'weight': x.weight,
                          'contribution': round(x.score * x.weight / known_weight, 4),
                          'detail': x.detail})),
               lambda y: {'component': y.component, 'score': y.score, 'weight': y.weight,
                          'contribution': y.contribution, 'detail': y.detail}),
           'unknown': list_transform(list_filter(c, lambda x: x.score IS NULL),
                                     lambda x: x.component),
           'unknown_reasons': map_from_entries(list_transform(
               list_filter(c, lambda x: x.score IS NULL),
               lambda x: {'k': x.component, 'v': x.detail}))}) AS risk_explanation
FROM final
"""


def risk_factors(repo: str, weights: RiskWeights = RiskWeights()) -> Sql:
    """analytics.goid_risk_factors of `repo` as a SELECT the gateway runs (RISK_SQL; one row
    per analytics.function_metrics row)."""
    params = {f"w_{c}": float(getattr(weights, c)) for c in COMPONENTS}
    return Sql(RISK_SQL, {"repo": repo, **params, "high": weights.high,
                          "medium": weights.medium,
                          "min_commits": MIN_COMMITS})

