"""The function layer's tables (analytics.function_*), keyed by GOID. Registered in the one
catalog (storage/catalog.py's TABLES). Imports only pyarrow."""

from __future__ import annotations

from codeintel_assets.storage.table_spec import define as _table

_table("analytics", "function_metrics", ("repo", "goid"),
       "One row per function and method GOID: size, parameters, control flow and complexity of "
       "its own body (a nested def is one statement of its parent; docs/assets.md: function metrics).",
       """
goid DECIMAL(38,0) -- the def's GOID (as core.goids)
rel_path VARCHAR -- the defining file
qualname VARCHAR -- module-qualified qualname (as core.goids)
lineno INTEGER -- line of the `def` keyword (decorators excluded)
end_lineno INTEGER -- last line of the def
loc INTEGER -- physical lines from the def line to its end, minus the lines of defs and classes nested in it (theirs, decorators included)
logical_loc INTEGER -- distinct lines on which a statement of its own body starts
stmt_count INTEGER -- statements of its own body, compound ones included (a nested def or class is one)
positional_params INTEGER -- positional-only and positional-or-keyword parameters, the bound self/cls excluded
keyword_only_params INTEGER -- keyword-only parameters
has_varargs BOOLEAN -- has *args
has_varkw BOOLEAN -- has **kwargs
is_async BOOLEAN -- async def
is_generator BOOLEAN -- its own body yields (yield or yield from)
return_count INTEGER -- return statements of its own body
yield_count INTEGER -- yield and yield from expressions of its own body
raise_count INTEGER -- raise statements of its own body
cyclomatic_complexity INTEGER -- McCabe's, as radon 6 computes it: 1 + decision points of its own body (nested defs and classes add nothing)
cognitive_complexity INTEGER -- SonarSource's by complexipy 8's rules, of its own body: nested defs and classes add nothing (their rows count them; complexipy and the paper add them to the parent; extract/cognitive.py)
max_nesting_depth INTEGER -- deepest nesting of if/loop/try/with/match blocks in its own body (0 = flat; an elif chain is one level)
decorator_count INTEGER -- decorators
has_docstring BOOLEAN -- its body starts with a string literal
complexity_bucket VARCHAR -- low (cyclomatic 1-5) | moderate (6-10) | high (11-20) | very_high (over 20): radon's ranks A, B, C, D-F
""")

_table("analytics", "function_types", ("repo", "goid"),
       "One row per function and method GOID: how much of its signature is annotated.", """
goid DECIMAL(38,0) -- the def's GOID (as core.goids)
rel_path VARCHAR -- the defining file
qualname VARCHAR -- module-qualified qualname (as core.goids)
params_total INTEGER -- parameters of all kinds, the bound self/cls excluded (as core.ast_nodes.params_total)
params_annotated INTEGER -- those with an annotation
param_typed_ratio DOUBLE -- params_annotated / params_total; NULL without parameters
has_return_annotation BOOLEAN -- has `-> ...`
return_type VARCHAR -- the return annotation as written; NULL without one
param_types JSON -- {"name": "annotation as written" or null} in signature order; *args and **kwargs keep their stars
typedness_bucket VARCHAR -- typed (every parameter and the return annotated; without parameters the return is enough) | untyped (nothing annotated) | partial
""")
