"""The history and test-evidence tables of the function layer: analytics.hotspots and
analytics.function_history (from git, through ToolService), analytics.coverage_functions and
analytics.test_coverage_edges (from coverage_lines and test_catalog), and
analytics.goid_risk_factors, which combines them. Registered in the one catalog
(storage/catalog.py's TABLES). Imports only pyarrow."""

from __future__ import annotations

from codeintel_assets.storage.table_spec import define as _table

_table("analytics", "hotspots", ("repo", "rel_path"),
       "One row per scanned Python file: how often and how much it changed in the history "
       "window (git log --numstat through ToolService), with its complexity.", """
rel_path VARCHAR -- the file (as core.file_state)
commit_count INTEGER -- commits in the window that changed the file (renames followed)
author_count INTEGER -- distinct author emails of those commits
lines_added INTEGER -- lines added by those commits (git --numstat)
lines_deleted INTEGER -- lines deleted by those commits
churn INTEGER -- lines_added + lines_deleted
last_changed_at TIMESTAMP -- author time of the newest commit that changed it (any age; NULL without history)
complexity INTEGER -- core.ast_metrics.complexity (branching statements of the file)
score DOUBLE -- in [0, 1]: sqrt(change x complexity), each log-scaled to the repository's maximum (docs/assets.md: hotspots); 0 without history
window_days INTEGER -- length of the window, days before the HEAD commit's time
history_status VARCHAR -- git (history read) | shallow (a shallow clone: history read up to its boundary commits) | no_git (not a Git checkout) | no_commits | git_refused (git refused the repository, e.g. dubious ownership: docs/assets.md, function history) | submodule (the file is in a submodule: its history is another repository's)
""")

_table("analytics", "function_history", ("repo", "goid"),
       "One row per function and method GOID: its history as `git log -L` on its current span "
       "reports it (one history pass per file).", """
goid DECIMAL(38,0) -- the def's GOID (as core.goids)
rel_path VARCHAR -- the defining file
qualname VARCHAR -- module-qualified qualname (as core.goids)
created_in_commit VARCHAR -- sha of the commit that introduced its current def line (as git blame names it); NULL without history, for an uncommitted def line (a file the scanned commit does not hold: untracked or staged), or when a shallow clone's history ends first
created_at TIMESTAMP -- author time of created_in_commit
last_modified_commit VARCHAR -- newest commit that changed a line of its current span (the first entry of git log -L)
last_modified_at TIMESTAMP -- author time of last_modified_commit
age_days DOUBLE -- days from created_at to the scanned commit's time; 0 when the author date is later (clock skew), never negative
commit_count INTEGER -- commits in the window that changed its span (git log -L within the window); NULL (as author_count, lines_added, lines_deleted, churn_score, stability_bucket) for a file in a submodule
author_count INTEGER -- distinct author emails of those commits
lines_added INTEGER -- lines those commits added inside the span (zero-context diffs)
lines_deleted INTEGER -- lines those commits removed at the span: the preimage lines of their hunks touching it
churn_score DOUBLE -- (lines_added + lines_deleted) / current span length, within the window (docs/assets.md: function history)
stability_bucket VARCHAR -- new | volatile | active | stable (docs/assets.md: function history)
window_days INTEGER -- length of the window, days before the HEAD commit's time
""")

_table("analytics", "coverage_functions", ("repo", "goid"),
       "One row per function and method GOID: its lines' coverage in the shared test run. A "
       "line belongs to its innermost definition: a nested def's lines are not its parent's, "
       "a method's not its class's; the def line and decorators are the enclosing scope's "
       "(docs/assets.md: coverage per function).",
       """
goid DECIMAL(38,0) -- the def's GOID (as core.goids)
rel_path VARCHAR -- the defining file
qualname VARCHAR -- module-qualified qualname (as core.goids)
executable_lines INTEGER -- lines of its own (after its def line, nested defs' excluded) that coverage.py counts as statements
covered_lines INTEGER -- those that ran in the test run (in a test or outside one: collection, a module-level call; a one-line def's line only in a test)
coverage_ratio DOUBLE -- covered_lines / executable_lines; NULL with nothing executable
test_count INTEGER -- distinct tests (contexts) that ran one of its lines
tested BOOLEAN -- covered_lines > 0: at least one of its executable lines ran
untested_reason VARCHAR -- NULL when tested; else no_coverage_data (no coverage rows of core.goids' commit: no test run) | file_not_measured (coverage.py never saw the file) | no_executable_lines | not_executed
""")

_table("analytics", "test_coverage_edges", ("repo", "test_id", "goid"),
       "Which test ran which function: one row per (test, function or method GOID) with a "
       "line the test ran (coverage_lines.contexts; a line belongs to its innermost def, as "
       "in analytics.coverage_functions).", """
test_id VARCHAR -- pytest node id (as analytics.test_catalog.test_id)
goid DECIMAL(38,0) -- the function's GOID (as core.goids)
rel_path VARCHAR -- the function's file
qualname VARCHAR -- the function's module-qualified qualname
test_goid DECIMAL(38,0) -- GOID of the test function (as analytics.test_catalog.test_goid: the defining function of an inherited or parametrized test)
covered_lines INTEGER -- the function's executable lines this test ran (its setup and teardown included)
executable_lines INTEGER -- the function's executable lines
coverage_ratio DOUBLE -- covered_lines / executable_lines
last_status VARCHAR -- the test's status in the run (as analytics.test_catalog.status; NULL when the catalog has no such test)
""")

_table("analytics", "goid_risk_factors", ("repo", "goid"),
       "One row per function and method GOID: the risk inputs, a score per component in [0, 1], "
       "their weighted mean risk_score and the components that drove it (storage/risk.py; "
       "docs/assets.md: risk).", """
goid DECIMAL(38,0) -- the def's GOID (as core.goids)
rel_path VARCHAR -- the defining file
qualname VARCHAR -- module-qualified qualname (as core.goids)
lineno INTEGER -- line of the `def` keyword
end_lineno INTEGER -- last line of the def
cyclomatic_complexity INTEGER -- analytics.function_metrics
cognitive_complexity INTEGER -- analytics.function_metrics
loc INTEGER -- analytics.function_metrics
typedness_bucket VARCHAR -- analytics.function_types
coverage_ratio DOUBLE -- analytics.coverage_functions; NULL with nothing executable or no test run
tested BOOLEAN -- analytics.coverage_functions
untested_reason VARCHAR -- analytics.coverage_functions
covering_tests INTEGER -- tests that ran one of its lines (analytics.test_coverage_edges)
failing_tests INTEGER -- of those, tests whose status is failed or error for the code's reasons (environment_failing_tests excepted)
environment_failing_tests INTEGER -- of those, tests failed or in error for the environment's: analytics.test_catalog.message is a ModuleNotFoundError/ImportError for a module outside the repository (core.modules) or "fixture '...' not found"; not scored
static_errors INTEGER -- distinct positions (line, col) of type errors (pyright, pyrefly) and lint errors (analytics.diagnostics.category 'lint') of severity error (analytics.diagnostics) on its own lines: from lineno to end_lineno, a nested def's lines being the nested def's; style findings are not counted (the explanation names them)
file_churn INTEGER -- its file's lines added + deleted in the history window (analytics.hotspots.churn)
file_commits INTEGER -- its file's commits in the window (analytics.hotspots.commit_count)
hotspot_score DOUBLE -- its file's analytics.hotspots.score
owners JSON -- its file's CODEOWNERS owners (core.modules.owners)
tags JSON -- its file's tags (analytics.tags_index.matches)
is_test BOOLEAN -- its file is tagged tests (tags_index.yaml, else the built-in tests/, test_*.py, *_test.py, conftest.py patterns): test code, which the summary's riskiest list leaves out
is_vendored BOOLEAN -- its file is vendored code (core.file_state.is_vendored): scored as any function, left out of the summary's riskiest list unless --include-vendored
complexity_risk DOUBLE -- max(1 - exp(-(cyclomatic - 1) / 15), 1 - exp(-cognitive / 22)): 0.49 at cyclomatic 11 or cognitive 15, 0.74 at 21 or 30, 0.93 at 41 or 60
coverage_risk DOUBLE -- 1 - coverage_ratio; 1 when untested, 0 with nothing executable; NULL without a test run
typedness_risk DOUBLE -- untyped 1, partial 0.5, typed 0
static_error_risk DOUBLE -- 1 - 0.5^static_errors
churn_risk DOUBLE -- ln(1 + file_churn) / ln(1 + the repository's largest file_churn); NULL unless hotspots.history_status is git and some file changed in 2 or more commits of the window (too little history otherwise)
hotspot_risk DOUBLE -- hotspot_score; NULL when churn_risk is
failing_test_risk DOUBLE -- 1 when a covering test failed, else 0; NULL without a test run
risk_score DOUBLE -- in [0, 1]: the weighted mean of the component risks that are not NULL (weights: docs/assets.md: risk)
risk_level VARCHAR -- high (risk_score >= high threshold) | medium (>= medium threshold) | low
risk_explanation JSON -- {"drivers": [{component, score, weight, contribution, detail}] by contribution, largest first, contributions > 0 only; "unknown": [components without data]; "unknown_reasons": {component: reason}, e.g. "too little history: no file changed in more than 1 commit" (docs/assets.md: risk)}
""")
