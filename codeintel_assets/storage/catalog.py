"""The table catalog: one Arrow schema and primary key per DuckDB table.

This module is the single source of truth for every table the warehouse writes. The gateway
derives DDL from it, extractors build their Arrow batches against it, and the Dagster layer turns
it into column-schema metadata. It imports only pyarrow, so worker processes load it cheaply.

Type names are DuckDB's (VARCHAR, INTEGER, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, JSON,
DECIMAL(38,0)); JSON columns travel as Arrow strings holding JSON text and are stored as DuckDB
JSON.
"""

from __future__ import annotations

import pyarrow as pa

# TableSpec and the column notation live in table_spec; catalog users import them from here.
from codeintel_assets.storage.table_spec import (  # noqa: F401 - re-exported
    CATALOG_VERSION,
    TABLES,
    Column,
    TableSpec,
    parse_columns,
)
from codeintel_assets.storage.table_spec import define as _table

_table("core", "file_state", ("repo", "rel_path"),
       "One row per scanned file: size, mtime, content hash and whether it parses.", """
rel_path VARCHAR -- POSIX path relative to the repository root
language VARCHAR -- python | toml | yaml | json | ini | cfg | env
size_bytes BIGINT -- file size in bytes (os.stat)
mtime_ns BIGINT -- modification time in ns since the epoch (os.stat)
content_hash VARCHAR -- blake2b-128 hex digest of the file's bytes
parse_status VARCHAR -- ok | syntax_error | decode_error | too_large | binary
parse_error VARCHAR -- the error message when parse_status is not ok
is_vendored BOOLEAN -- a copy of another project's code kept in the tree (extract/vendored.py: a _vendor/, vendor/, vendored/ or third_party/ folder, a vendor.txt in or naming it, a nested ruff/pyright config excluding its whole folder, *.dist-info beside it); indexed as any file, left out of the summary's rankings unless --include-vendored
vendored_reason VARCHAR -- why, with the vendored root: 'folder named _vendor: setuptools/_vendor/' (NULL when not vendored)
is_stub BOOLEAN -- a .pyi type stub (extract/naming.py: is_stub); core.goids.shadowed_stub says whether a .py beside it is what runs
""")

_table("core", "modules", ("repo", "module"),
       "One row per Python file (.py/.pyi; packages are their __init__), named as Python imports it.", """
module VARCHAR -- dotted import name relative to its source root (src/pkg/a.py -> pkg.a; PEP 420 namespace dirs climbed when a child would get a stdlib name: _vendor/jaraco/functools -> jaraco.functools); unique: a second file with the same name gets <name>@<rel_path>
rel_path VARCHAR -- the module's file
language VARCHAR -- python
is_package BOOLEAN -- true for __init__.py / __init__.pyi
source_root VARCHAR -- rel_path of the directory the module name is relative to ('' = repo root)
name_status VARCHAR -- 'import' (Python imports the file by this name), 'disambiguated' (another file has the plain name: package over module, .py over .pyi, shallower path first) or 'invalid' (a part is not an identifier, e.g. text.show-newlines; never used to resolve imports)
tags JSON -- list of tag names from analytics.tags_index whose rules match the file
owners JSON -- list of CODEOWNERS owners of the file (last matching rule), [] without CODEOWNERS
""")

_table("core", "repo_map", ("repo",),
       "One row per repository: the snapshot ingested and what the last scan found changed.", """
branch VARCHAR -- checked-out branch ('' when detached or outside Git)
dirty BOOLEAN -- true when the work tree differs from HEAD (git status --porcelain)
commit_ts TIMESTAMP -- committer timestamp of HEAD (UTC)
repo_root VARCHAR -- absolute path of the scanned work tree
module_count INTEGER -- rows in core.modules
file_count INTEGER -- rows in core.file_state
files_changed INTEGER -- files whose content hash changed since the previous scan
files_added INTEGER -- files new since the previous scan
files_deleted INTEGER -- files gone since the previous scan
files_unchanged INTEGER -- files with the same content hash as the previous scan
symlinks_skipped INTEGER -- symlinks the scan did not follow (listed in repo_scan's metadata)
unreadable_paths INTEGER -- directories or files it could not read, or not regular files (listed too)
generated_at TIMESTAMP -- when the scan ran (UTC)
""")

_table("analytics", "tags_index", ("repo", "tag"),
       "Path-based tags (tags_index.yaml at the repo root, else built-in defaults) and matches.", """
tag VARCHAR -- the tag name
description VARCHAR -- what the tag means
includes JSON -- list of gitignore-style patterns that select files
excludes JSON -- list of patterns that remove files again
matches JSON -- sorted list of scanned rel_paths the tag matches
""")

_table("core", "ast_nodes", ("repo", "rel_path", "node_id"),
       "Statements, definitions and call-graph/metric expressions from Python's ast module.", """
rel_path VARCHAR -- file of the node
node_id VARCHAR -- {rel_path}:{node_type}:{lineno}:{col_offset}:{end_lineno}:{end_col_offset}
module VARCHAR -- module of the file
node_type VARCHAR -- ast class name (Module, FunctionDef, Call, ...)
name VARCHAR -- defined name, callee text (Call), imported module (Import*), target text (Assign)
qualname VARCHAR -- qualname of Module/ClassDef/FunctionDef/AsyncFunctionDef nodes, else NULL
kind VARCHAR -- module | class | function | method (a def directly in a class body) for definitions, else NULL: the one place the kind rule is applied (extract/pysource.py)
parent_qualname VARCHAR -- qualname of the enclosing module, class or function
depth INTEGER -- nesting depth in the ast (Module = 0)
lineno INTEGER -- first line (1-based; the def/class line for decorated definitions)
end_lineno INTEGER -- last line (inclusive)
col_offset INTEGER -- first column (0-based UTF-8 byte offset, as ast)
end_col_offset INTEGER -- end column (exclusive, UTF-8 byte offset)
name_line INTEGER -- line of the name token of a def/class
name_col INTEGER -- column of the name token of a def/class
decorator_start_line INTEGER -- first decorator line of a decorated def/class
decorator_end_line INTEGER -- last decorator line of a decorated def/class
decorators JSON -- list of decorator source texts
docstring VARCHAR -- docstring of Module/ClassDef/FunctionDef nodes (ast.get_docstring)
params_total INTEGER -- parameters of a def, all kinds (self/cls of a method excluded)
params_annotated INTEGER -- of those, parameters with an annotation
returns_annotated BOOLEAN -- a def with a return annotation
""")

_table("core", "definition_refs", ("repo", "rel_path", "qualname", "kind"),
       "What the call graph needs to know of each definition and module- or class-level "
       "alias of a Python file, resolved as far as the file decides (extract/calls.py).", """
rel_path VARCHAR -- the file
qualname VARCHAR -- a def or class qualname (as core.goids); for an alias, the scope's qualname and the name (`pkg.compat.scan` for `scan = _scan_v2`)
kind VARCHAR -- class | function (FunctionDef/AsyncFunctionDef, methods too) | alias (the last `name = value` of a module or class body; or a name defined in several branches: the definitions that may be bound) | property (a method that is a property accessor, beside its function row) | abstract (a method decorated `abstractmethod` or whose body is only a docstring, `...`, `pass` or `raise NotImplementedError`, beside its function row)
bases JSON -- class: each base as candidate references (as core.call_sites.refs), in order
params JSON -- function: parameter names in call order (positional-only, positional, *args, keyword-only, **kwargs; self/cls included)
arity INTEGER -- function: parameters, all kinds, the bound self/cls excluded (as core.ast_nodes.params_total)
return_refs JSON -- function: references of the functions and classes it returns by name; `when`: the conditions on constant arguments under which it returns one ([{"param", "index", "eq" or "ne"}], extract/call_branches.py)
value_refs JSON -- alias: references of the value (`handler = helper` in a class body); property: {"name", "role": getter | setter | deleter}
""")

_table("core", "call_sites", ("repo", "rel_path", "line", "col"),
       "Every call of a Python file (ast.Call; a bare decorator is a call at its line), with the "
       "callee resolved as far as the file alone allows (scopes, imports, assignments, self); "
       "graph.call_graph_edges links them across files.", """
rel_path VARCHAR -- the calling file
line INTEGER -- line of the call's argument list: the end of the callee expression (for a bare decorator, the decorator's end)
col INTEGER -- column there (0-based UTF-8 bytes): unique per call, also for f(x)(y) and a.b().c()
module VARCHAR -- module of the file
caller_qualname VARCHAR -- qualname (as core.goids) of the innermost enclosing def or class; the module for module-level code
callee_name VARCHAR -- the callee expression as written: self.client.get, make(), handlers['a'] (at most 200 characters)
name_line INTEGER -- line of the callee's name token (a Name, or an Attribute's last name); NULL for other callees
name_col INTEGER -- its column (0-based UTF-8 bytes): where the SCIP occurrence naming the callee starts
is_decorator BOOLEAN -- the call a decorator makes at the decorator line (bare @dec, or the call of a decorator factory's result)
refs JSON -- file-local resolution, candidates in order: [{"ref": absolute dotted name, "mode": value | super | param | builtin, "attr": path after ref (`.name`, `()`), "via": rule, flags exact / last / fallback / default (a parameter's default value), "consts": [[offset of a `()` in attr, its constant arguments]]}] (extract/calls.py); [] when nothing is known
args JSON -- arguments that may be callables: [{"pos": index or null, "kw": keyword or null, "refs": [...] ([] when unknown), "spread": true for the caller's own *args passed on}] (what parameter flow follows)
""")

_table("core", "ast_metrics", ("repo", "rel_path"),
       "Per-file size and shape metrics computed from the ast.", """
rel_path VARCHAR -- the file
node_count INTEGER -- all ast nodes (ast.walk)
function_count INTEGER -- FunctionDef + AsyncFunctionDef nodes
class_count INTEGER -- ClassDef nodes
avg_depth DOUBLE -- mean ast depth over all nodes
max_depth INTEGER -- deepest ast node (Module = 0)
complexity INTEGER -- branch points: if/for/while/except/with-less match cases, boolean operators, comprehension ifs, ternaries
loc INTEGER -- physical lines
logical_loc INTEGER -- statements (ast.stmt nodes)
""")

_table("core", "imports", ("repo", "rel_path", "lineno", "imported"),
       "Every import statement target, with relative imports resolved to absolute names.", """
rel_path VARCHAR -- the importing file
lineno INTEGER -- line of the import statement
imported VARCHAR -- absolute dotted target: `from a import b` -> a.b, `import a.b` -> a.b, `from a import *` -> a
module VARCHAR -- the importing module
name VARCHAR -- the imported name as written (b for `from a import b`, a.b for `import a.b`, * for star)
asname VARCHAR -- the alias, NULL without `as`
level INTEGER -- number of leading dots (0 = absolute)
is_star BOOLEAN -- `from a import *`
in_type_checking BOOLEAN -- inside an `if TYPE_CHECKING:` block
scope VARCHAR -- module | function (imports inside a def)
col_offset INTEGER -- column of the import statement
""")

_table("core", "cst_nodes", ("repo", "rel_path", "node_id"),
       "Definitions, statements, calls and decorators from LibCST with positions and qualified names.", """
rel_path VARCHAR -- the file
node_id VARCHAR -- {rel_path}:{kind}:{start_line}:{start_col}:{end_line}:{end_col}
kind VARCHAR -- LibCST class name
start_line INTEGER -- 1-based (PositionProvider, syntactic: a def starts at `def`, not its decorators)
start_col INTEGER -- 0-based UTF-8 byte offset, as ast
end_line INTEGER -- inclusive
end_col INTEGER -- exclusive UTF-8 byte offset
text_preview VARCHAR -- first 200 characters of the node's source
parent_kinds JSON -- list of enclosing recorded node kinds, outermost first
qnames JSON -- sorted list of QualifiedNameProvider names (the def itself, a call's callee, a decorator)
""")

_table("core", "docstrings", ("repo", "rel_path", "qualname"),
       "Docstrings of modules, classes and functions, parsed with docstring-parser.", """
rel_path VARCHAR -- the file
qualname VARCHAR -- qualname of the documented object (as core.goids.qualname: #N, #overloadK)
module VARCHAR -- module of the file
kind VARCHAR -- module | class | function | method
lineno INTEGER -- first line of the docstring literal
end_lineno INTEGER -- last line of the docstring literal
raw_docstring VARCHAR -- cleaned docstring text (inspect.cleandoc)
style VARCHAR -- google | numpy | rest | epydoc | unknown
short_desc VARCHAR -- summary line
long_desc VARCHAR -- body after the summary
params JSON -- list of {name, type, desc, default}
returns JSON -- {type, desc, is_generator} or null
raises JSON -- list of {type, desc}
examples JSON -- list of example texts
""")

_table("analytics", "config_values", ("repo", "config_path", "key"),
       "Flattened key paths of the repository's config files, secrets masked.", """
config_path VARCHAR -- rel_path of the config file
key VARCHAR -- dotted keypath, list items as numbers ('' for a file's one error row)
format VARCHAR -- toml | yaml | json | ini | cfg | env
value_type VARCHAR -- str | int | float | bool | null | list | dict (empty containers); for key '': parse_error | too_large | binary (the scan's verdict) | truncated
value_preview VARCHAR -- first 200 characters of the value, credentials masked (see redact.py)
reference_paths JSON -- rel_paths of Python files with a string literal naming the key
reference_modules JSON -- modules of those files
reference_count INTEGER -- number of referencing modules
""")

_table("core", "string_literals", ("repo", "rel_path", "literal"),
       "Distinct string literals of each Python file (2-200 characters): what config_values' "
       "references are matched against.", """
rel_path VARCHAR -- the Python file
literal VARCHAR -- the literal's value, credentials masked (`postgres://u:***@h/db`)
module VARCHAR -- module of the file
""")

_table("core", "goids", ("repo", "goid"),
       "Stable global object ids of modules, classes, functions and methods.", """
goid DECIMAL(38,0) -- blake2b-128 of repo, language, rel_path, kind, qualname joined by \\x1f, mod 10^38-1
urn VARCHAR -- goid:{repo}/{rel_path}#{language}:{kind}:{qualname}
rel_path VARCHAR -- the defining file
module VARCHAR -- module of the file
language VARCHAR -- python
kind VARCHAR -- module | class | function | method
qualname VARCHAR -- module-qualified qualname. Redefinitions in one scope: the first definition that is not an @overload signature has the plain name (the implementation, after its signatures, so callers, coverage and metrics are found under the name; for platform if/else branches and later redefinitions the first in the file, so an id stays put when a branch or a later definition is added, although at run time the last binding wins), later ones #N (N-th such definition); the K-th @overload signature of an implemented name is #overloadK (a scope with only signatures, a .pyi stub or a Protocol, names them as redefinitions: the first has the plain name)
start_line INTEGER -- first line, the first decorator's for decorated definitions
end_line INTEGER -- last line
name_line INTEGER -- line of the name token (the first line for modules)
name_col INTEGER -- column of the name token (0 for modules)
ast_node_id VARCHAR -- core.ast_nodes.node_id of the definition
is_stub BOOLEAN -- defined in a .pyi type stub
shadowed_stub BOOLEAN -- defined in a .pyi stub whose module a .py (or package) beside it implements (the stub's module name is disambiguated: `pkg@pkg/__init__.pyi`): it never runs, so it is never a call target (graph.call_graph_edges and graph.symbol_use_edges name the implementation instead) and has no rows in analytics.function_metrics, function_types, coverage_functions, function_history or goid_risk_factors; false for a stub that is the only description of its module (a stub-only package), which keeps them
is_overload BOOLEAN -- an @overload signature of a name implemented in the same scope (qualname `#overloadK`): it never runs, so it is never a call target (a call SCIP resolves to it goes to the implementation, which has the plain qualname) and has no rows in analytics.function_metrics, function_types, coverage_functions, function_history or goid_risk_factors
""")


_table("analytics", "typedness", ("repo", "rel_path"),
       "Per-file annotation coverage (from ast) and type-checker error counts.", """
rel_path VARCHAR -- the file
params_annotated INTEGER -- parameters with an annotation (self/cls of methods excluded)
params_total INTEGER -- parameters (self/cls of methods excluded)
returns_annotated INTEGER -- functions with a return annotation
defs_total INTEGER -- functions and methods
param_ratio DOUBLE -- params_annotated / params_total (NULL when params_total = 0)
return_ratio DOUBLE -- returns_annotated / defs_total (NULL when defs_total = 0)
untyped_defs INTEGER -- functions with no parameter or return annotation at all
type_error_count INTEGER -- pyright + pyrefly errors in the file
overlay_needed BOOLEAN -- the file has untyped defs or type errors (a stub overlay would help)
""")

_table("analytics", "static_diagnostics", ("repo", "rel_path"),
       "Per-file error counts of pyright, pyrefly and ruff (equal to the detail rows; style findings apart).", """
rel_path VARCHAR -- the file (only files of the scan appear)
pyright_errors INTEGER -- pyright diagnostics of severity error
pyrefly_errors INTEGER -- pyrefly diagnostics of severity error
ruff_errors INTEGER -- ruff lint violations (category 'lint'; every ruff violation is an error)
style_findings INTEGER -- ruff style findings (category 'style'): not errors, not in total_errors
total_errors INTEGER -- pyright_errors + pyrefly_errors + ruff_errors
has_errors BOOLEAN -- total_errors > 0
""")

_table("analytics", "diagnostics", ("repo", "tool", "rel_path", "line", "col", "code", "occurrence"),
       "One row per diagnostic of pyright, pyrefly and ruff.", """
tool VARCHAR -- pyright | pyrefly | ruff
rel_path VARCHAR -- the file
line INTEGER -- start line (1-based)
col INTEGER -- start column (0-based)
code VARCHAR -- rule code (reportAttributeAccessIssue, bad-return, F401, ...)
occurrence INTEGER -- 1 for the first diagnostic with this tool/file/line/col/code, 2 for the next...
end_line INTEGER -- end line (inclusive)
end_col INTEGER -- end column (exclusive)
severity VARCHAR -- error | warning | information
message VARCHAR -- the tool's message
rule_url VARCHAR -- documentation URL of the rule, when the tool gives one
category VARCHAR -- type (pyright, pyrefly) | lint (ruff's defect rules, syntax errors) | style (ruff's form linters: pycodestyle layout, pyupgrade, isort, pydocstyle, naming...; tools/diagnostics.STYLE_CODE); only type and lint count as errors
""")

_table("analytics", "tool_failures", ("repo", "tool", "rel_path"),
       "Files a static tool crashed on (found by bisection, tools/isolate.py): every other "
       "file's diagnostics are kept.", """
tool VARCHAR -- pyright | pyrefly | ruff
rel_path VARCHAR -- the file the tool crashes on
kind VARCHAR -- crash (alone) | crash_with_others (only when checked with other files)
rows_kept BOOLEAN -- the file's own diagnostics were still produced (by a run of fewer files)
reason VARCHAR -- the tool's exit code and output tail
""")

_table("analytics", "coverage_lines", ("repo", "rel_path", "line"),
       "Line coverage of the target's test run (coverage.py with per-test contexts), as "
       "coverage.py's own report counts it under the target's coverage configuration "
       "(source, omit, include, exclusions; tools/coverage_data.py).", """
rel_path VARCHAR -- a file coverage.py reports: measured, or under `source` and never imported (every statement not covered)
line INTEGER -- line number (1-based): a statement, or a line the target's exclusion rules exclude
is_executable BOOLEAN -- coverage.py counts the line as a statement (false: excluded)
is_covered BOOLEAN -- the statement ran (never true where is_executable is false)
hits INTEGER -- number of test contexts that ran it (coverage.py records no counts)
context_count INTEGER -- number of test contexts that ran it
contexts JSON -- sorted pytest node ids that ran the line (as analytics.test_catalog.test_id)
""")

_table("analytics", "test_catalog", ("repo", "test_id"),
       "The target's pytest tests with their outcome in the shared test run.", """
test_id VARCHAR -- pytest node id (tests/test_a.py::TestX::test_y[param])
rel_path VARCHAR -- file of the test
qualname VARCHAR -- module-qualified qualname of the test function (as core.goids): for an inherited test the defining method's (the class it ran on is in test_id)
test_goid DECIMAL(38,0) -- GOID of the test function: of a parametrized case its function, of an inherited test the method along the class's MRO (NULL when it is not in core.goids)
kind VARCHAR -- function | parametrized_case, or module | class for a collector that failed or was skipped
status VARCHAR -- passed | failed | skipped | xfailed | xpassed | error
duration_ms DOUBLE -- setup + call + teardown time in milliseconds
markers JSON -- sorted marker names (pytest keywords that are markers)
parametrized BOOLEAN -- the node id has a [parameter] part
flaky BOOLEAN -- marked flaky or rerun by a rerun plugin
message VARCHAR -- first line of the failure or skip reason
""")

_table("core", "scip_symbols", ("repo", "symbol", "document"),
       "SCIP symbols of the index (SymbolInformation), from scip-python.", """
symbol VARCHAR -- SCIP symbol string
document VARCHAR -- rel_path of the document for `local N` symbols (document-local), else ''
kind VARCHAR -- SymbolInformation.Kind name (Function, Method, Class, ...; '' if unset)
display_name VARCHAR -- SymbolInformation.display_name (or the last descriptor)
documentation VARCHAR -- SymbolInformation.documentation joined by blank lines
enclosing_symbol VARCHAR -- SymbolInformation.enclosing_symbol
def_rel_path VARCHAR -- document of the definition occurrence (NULL for external symbols)
def_line INTEGER -- line of the definition occurrence (1-based)
def_col INTEGER -- column of the definition occurrence (0-based, UTF-8 bytes)
is_local BOOLEAN -- a `local N` symbol
""")

_table("core", "scip_occurrences", ("repo", "rel_path", "start_line", "start_col", "symbol"),
       "SCIP occurrences of every document of the index.", """
rel_path VARCHAR -- the document
start_line INTEGER -- 1-based (SCIP ranges are 0-based)
start_col INTEGER -- 0-based
symbol VARCHAR -- SCIP symbol string
end_line INTEGER -- inclusive
end_col INTEGER -- exclusive
symbol_roles INTEGER -- SCIP SymbolRole bits: 1 definition, 2 import, 4 write, 8 read
is_definition BOOLEAN -- symbol_roles has the definition bit
""")

_table("core", "goid_crosswalk", ("repo", "goid"),
       "GOIDs joined to their ast node, LibCST node and SCIP symbol.", """
goid DECIMAL(38,0) -- from core.goids
urn VARCHAR -- from core.goids
module VARCHAR -- module of the file
rel_path VARCHAR -- the defining file
start_line INTEGER -- first line (first decorator for decorated definitions)
end_line INTEGER -- last line
ast_node_id VARCHAR -- core.ast_nodes.node_id of the definition
cst_node_id VARCHAR -- core.cst_nodes.node_id of the definition (same def/class line)
scip_symbol VARCHAR -- SCIP symbol whose definition occurrence starts on the name token
match_status VARCHAR -- exact (ast, cst and SCIP all matched) | partial | none
""")


# The graph and function layers register their tables here too (one TABLES, one lookup).
from codeintel_assets.storage import catalog_analytics, catalog_graphs, catalog_history  # noqa: E402,F401


def table(qualified_name: str) -> TableSpec:
    try:
        return TABLES[qualified_name]
    except KeyError:
        raise KeyError(f"{qualified_name!r} is not in the catalog; known: {sorted(TABLES)}") from None


def schemas(*qualified_names: str) -> dict[str, pa.Schema]:
    """name -> Arrow schema of catalog tables (what the parallel extractor runner takes)."""
    return {n: table(n).arrow_schema for n in qualified_names}
