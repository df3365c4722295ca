"""The function layer's views: docs.v_function_summary (one row per function with its metrics,
types and risk), docs.v_test_to_function (which test ran which function) and docs.v_file_summary
(one row per file). Registered in VIEWS (storage/view_spec.py), as the catalog modules register
tables."""

from __future__ import annotations

from codeintel_assets.storage.view_spec import define_view

# Tags per file (repo, rel_path, tags JSON sorted) from the tags' own matches: core.modules
# keeps one file per module name, so its tags miss a second tests/*/conftest.py. Shared by
# v_file_summary and analytics.goid_risk_factors (storage/risk.py).
FILE_TAGS = """
SELECT repo, rel_path, to_json(list(tag ORDER BY tag)) AS tags
FROM analytics.tags_index, unnest(CAST(matches AS VARCHAR[])) AS m(rel_path)
GROUP BY repo, rel_path
"""

FUNCTION_SUMMARY = define_view(
    "docs", "v_function_summary",
    ("analytics.goid_risk_factors", "analytics.function_metrics", "analytics.function_types"),
    "One row per function and method: analytics.goid_risk_factors with the size, shape and "
    "signature columns of analytics.function_metrics and analytics.function_types. Sort by "
    "risk_score for a review list.", """
repo VARCHAR -- repository slug
commit VARCHAR -- snapshot of the row
goid DECIMAL(38,0) -- the def's GOID
rel_path VARCHAR -- the defining file
qualname VARCHAR -- module-qualified qualname
lineno INTEGER -- line of the `def` keyword
end_lineno INTEGER -- last line of the def
loc INTEGER -- its own physical lines (function_metrics)
logical_loc INTEGER -- lines on which a statement of its own body starts
stmt_count INTEGER -- statements of its own body
positional_params INTEGER -- positional parameters, self/cls excluded
keyword_only_params INTEGER -- keyword-only parameters
is_async BOOLEAN -- async def
is_generator BOOLEAN -- yields
cyclomatic_complexity INTEGER -- McCabe's, as radon computes it
cognitive_complexity INTEGER -- SonarSource's, as complexipy computes it
max_nesting_depth INTEGER -- deepest block nesting of its own body
complexity_bucket VARCHAR -- low | moderate | high | very_high
has_docstring BOOLEAN -- its body starts with a string literal
params_total INTEGER -- parameters, self/cls excluded (function_types)
params_annotated INTEGER -- those with an annotation
return_type VARCHAR -- the return annotation as written
typedness_bucket VARCHAR -- typed | partial | untyped
coverage_ratio DOUBLE -- share of its own executable lines the tests ran (NULL: nothing executable or no test run)
tested BOOLEAN -- a test ran one of its lines
untested_reason VARCHAR -- why not (coverage_functions)
covering_tests INTEGER -- tests that ran it
failing_tests INTEGER -- of those, failed or error
static_errors INTEGER -- type and lint errors on its own lines (ruff's style findings excluded; goid_risk_factors)
file_churn INTEGER -- its file's lines added + deleted in the window
hotspot_score DOUBLE -- its file's hotspot score
owners JSON -- its file's CODEOWNERS owners
tags JSON -- its file's tags
is_test BOOLEAN -- its file is test code (tagged tests)
is_vendored BOOLEAN -- its file is vendored code (core.file_state.is_vendored): filter it out for the project's own functions
risk_score DOUBLE -- in [0, 1] (goid_risk_factors)
risk_level VARCHAR -- low | medium | high
risk_explanation JSON -- the components that drove the score, largest first
""", """
SELECT r.repo, r."commit", r.goid, r.rel_path, r.qualname, r.lineno, r.end_lineno, r.loc,
       m.logical_loc, m.stmt_count, m.positional_params, m.keyword_only_params, m.is_async,
       m.is_generator, r.cyclomatic_complexity, r.cognitive_complexity, m.max_nesting_depth,
       m.complexity_bucket, m.has_docstring, t.params_total, t.params_annotated,
       t.return_type, r.typedness_bucket, r.coverage_ratio, r.tested, r.untested_reason,
       r.covering_tests, r.failing_tests, r.static_errors, r.file_churn, r.hotspot_score,
       r.owners, r.tags, r.is_test, r.is_vendored, r.risk_score, r.risk_level, r.risk_explanation
FROM analytics.goid_risk_factors r
LEFT JOIN analytics.function_metrics m ON m.repo = r.repo AND m.goid = r.goid
LEFT JOIN analytics.function_types t ON t.repo = r.repo AND t.goid = r.goid
""")

TEST_TO_FUNCTION = define_view(
    "docs", "v_test_to_function", ("analytics.test_coverage_edges", "analytics.test_catalog"),
    "Every (test, function) pair where the test ran a line of the function "
    "(analytics.test_coverage_edges), with the test's file, qualname, status and duration "
    "from analytics.test_catalog.", """
repo VARCHAR -- repository slug
commit VARCHAR -- snapshot of the edge
test_id VARCHAR -- pytest node id
test_rel_path VARCHAR -- the test's file
test_qualname VARCHAR -- the test function's qualname (the defining one for inherited tests)
test_goid DECIMAL(38,0) -- the test function's GOID
test_status VARCHAR -- passed | failed | skipped | xfailed | xpassed | error
test_duration_ms DOUBLE -- setup + call + teardown
goid DECIMAL(38,0) -- the function the test ran
rel_path VARCHAR -- its file
qualname VARCHAR -- its qualname
covered_lines INTEGER -- its lines this test ran
executable_lines INTEGER -- its executable lines
coverage_ratio DOUBLE -- covered_lines / executable_lines
""", """
SELECT e.repo, e."commit", e.test_id, c.rel_path AS test_rel_path,
       c.qualname AS test_qualname, coalesce(e.test_goid, c.test_goid) AS test_goid,
       coalesce(c.status, e.last_status) AS test_status, c.duration_ms AS test_duration_ms,
       e.goid, e.rel_path, e.qualname, e.covered_lines, e.executable_lines, e.coverage_ratio
FROM analytics.test_coverage_edges e
LEFT JOIN analytics.test_catalog c ON c.repo = e.repo AND c.test_id = e.test_id
""")

FILE_SUMMARY = define_view(
    "docs", "v_file_summary",
    ("core.file_state", "core.modules", "analytics.tags_index", "core.ast_metrics",
     "analytics.hotspots",
     "analytics.static_diagnostics", "analytics.typedness", "analytics.coverage_lines",
     "analytics.goid_risk_factors"),
    "One row per scanned file: size and parse status, module, owners and tags, complexity, "
    "history (hotspots), static errors, annotation ratios, line coverage and its functions' "
    "risk.", """
repo VARCHAR -- repository slug
commit VARCHAR -- snapshot of the file (core.file_state)
rel_path VARCHAR -- the file
module VARCHAR -- its module (core.modules; NULL for a file no module names)
language VARCHAR -- python
parse_status VARCHAR -- ok | syntax_error | decode_error | too_large | binary
size_bytes BIGINT -- file size
loc INTEGER -- physical lines (core.ast_metrics)
complexity INTEGER -- branching statements (core.ast_metrics)
function_count INTEGER -- functions and methods (core.ast_metrics)
class_count INTEGER -- classes (core.ast_metrics)
commit_count INTEGER -- commits in the history window (analytics.hotspots)
author_count INTEGER -- their authors
churn INTEGER -- lines added + deleted in the window
hotspot_score DOUBLE -- analytics.hotspots.score
static_errors INTEGER -- type errors (pyright + pyrefly) and ruff lint errors (analytics.static_diagnostics.total_errors)
style_findings INTEGER -- ruff style findings, not counted as errors
param_ratio DOUBLE -- annotated share of parameters (analytics.typedness)
return_ratio DOUBLE -- annotated share of returns
executable_lines BIGINT -- lines coverage.py counts as statements (analytics.coverage_lines)
covered_lines BIGINT -- of those, lines that ran
coverage_ratio DOUBLE -- covered / executable; NULL when the file was not measured in a test run of this commit
functions BIGINT -- functions and methods with a risk row
high_risk_functions BIGINT -- of those, risk_level high
max_risk_score DOUBLE -- the riskiest function's score
mean_risk_score DOUBLE -- mean risk_score of its functions
owners JSON -- CODEOWNERS owners (core.modules)
tags JSON -- tags of the file (analytics.tags_index matches)
is_vendored BOOLEAN -- vendored code (core.file_state.is_vendored); its diagnostics and functions are kept, filter on this column to leave them out
vendored_reason VARCHAR -- why (core.file_state.vendored_reason)
""", """
WITH cov AS (
    -- Per snapshot: a test run of an older commit does not describe today's lines.
    SELECT repo, "commit", rel_path,
           count(*) FILTER (WHERE is_executable) AS executable_lines,
           count(*) FILTER (WHERE is_executable AND is_covered) AS covered_lines
    FROM analytics.coverage_lines GROUP BY ALL
), risk AS (
    SELECT repo, rel_path, count(*) AS functions,
           count(*) FILTER (WHERE risk_level = 'high') AS high_risk_functions,
           max(risk_score) AS max_risk_score, avg(risk_score) AS mean_risk_score
    FROM analytics.goid_risk_factors GROUP BY ALL
), mods AS (
    SELECT repo, rel_path, min(module) AS module, any_value(owners) AS owners
    FROM core.modules GROUP BY ALL
), tags AS (""" + FILE_TAGS + """)
SELECT f.repo, f."commit", f.rel_path, md.module, f.language, f.parse_status, f.size_bytes,
       a.loc, a.complexity, a.function_count, a.class_count, h.commit_count, h.author_count,
       h.churn, h.score AS hotspot_score, s.total_errors AS static_errors,
       s.style_findings, t.param_ratio,
       t.return_ratio, c.executable_lines, c.covered_lines,
       c.covered_lines / nullif(c.executable_lines, 0) AS coverage_ratio,
       r.functions, r.high_risk_functions, r.max_risk_score, r.mean_risk_score,
       md.owners, coalesce(tg.tags, '[]')::JSON AS tags, f.is_vendored, f.vendored_reason
FROM core.file_state f
LEFT JOIN mods md ON md.repo = f.repo AND md.rel_path = f.rel_path
LEFT JOIN core.ast_metrics a ON a.repo = f.repo AND a.rel_path = f.rel_path
LEFT JOIN analytics.hotspots h ON h.repo = f.repo AND h.rel_path = f.rel_path
LEFT JOIN analytics.static_diagnostics s ON s.repo = f.repo AND s.rel_path = f.rel_path
LEFT JOIN analytics.typedness t ON t.repo = f.repo AND t.rel_path = f.rel_path
LEFT JOIN tags tg ON tg.repo = f.repo AND tg.rel_path = f.rel_path
LEFT JOIN cov c ON c.repo = f.repo AND c.rel_path = f.rel_path AND c."commit" = f."commit"
LEFT JOIN risk r ON r.repo = f.repo AND r.rel_path = f.rel_path
""")
