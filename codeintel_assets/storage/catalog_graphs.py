"""The graph layer's tables: the call, import and symbol-use graphs (graph.*) and their
metrics (analytics.graph_*). Registered in the one catalog (storage/catalog.py's TABLES).
Imports only pyarrow."""

from __future__ import annotations

from codeintel_assets.storage.table_spec import define as _table

_table("graph", "call_graph_nodes", ("repo", "goid"),
       "One node per module, class, function and method GOID of core.goids.", """
goid DECIMAL(38,0) -- from core.goids
kind VARCHAR -- module | class | function | method
qualname VARCHAR -- module-qualified qualname (as core.goids)
rel_path VARCHAR -- the defining file
module VARCHAR -- module of the file
start_line INTEGER -- first line (first decorator line for decorated definitions)
arity INTEGER -- parameters of a function or method, all kinds, the bound self/cls excluded (core.ast_nodes.params_total); NULL for classes and modules
is_public BOOLEAN -- no part of the qualname after the module, nor of the module path, starts with one underscore (dunders are public; `<locals>` definitions are not)
""")

_table("graph", "call_graph_edges", ("repo", "caller_goid", "callsite_path", "callsite_line",
                                     "callsite_col", "callee_key"),
       "One row per callee a call site may reach (core.call_sites, plus the with, for and raise "
       "statements that call the repository's code): the caller's GOID and the callee's GOID, "
       "resolved by the SCIP occurrence at the callee's name token, else by static rules.", """
caller_goid DECIMAL(38,0) -- the innermost enclosing definition (class body code: the class; module-level code: the module)
callsite_path VARCHAR -- file of the call
callsite_line INTEGER -- line of the call's argument list: the end of the callee expression (for a bare decorator, the decorator's end); for a with, for or raise statement's implicit call, the line of its context, iterable or exception expression
callsite_col INTEGER -- column there (0-based UTF-8 bytes): unique per call, also for f(x)(y) and a.b().c(); for an implicit statement call, where that expression starts
callee_key VARCHAR -- what tells the callees of one site apart: callee_target, '?' when unknown
callee_goid DECIMAL(38,0) -- GOID of the called definition; NULL for builtins, external code and unresolved calls
callee_name VARCHAR -- the callee expression as written: self.client.get, make(), handlers['a'] (at most 200 characters); for a statement, `with <expr>`, `for <expr>`, `raise <expr>`
callee_target VARCHAR -- dotted target where known: the callee's qualname, builtins.len, os.path.join
kind VARCHAR -- direct (the target is known: callee_goid, or a builtin or external target) | dispatch (an override the receiver's class hierarchy reaches: storage/call_dispatch.py; also getattr name patterns) | implicit (called by the statement, expression or builtin at the site: with -> __enter__/__exit__, for and next() -> __iter__/__next__, raise X -> X's constructor, a function passed to sorted/min/max key=, map, filter, eval/exec of constant code, a property's accessor, an operator's, truth test's, subscript's, f-string's or len()/str()...'s dunder) | unresolved
resolved_via VARCHAR -- scip | local_name | enclosing_scope | module_global | import_alias | star_import | self_method | cls_method | super | instance_method | attribute | constructor | assigned_alias | returned_value | container_item | parameter | parameter_any (one of several definitions passed there; all are rows, the others in evidence) | parameter_default (a parameter's default value) | decorator | builtin | external | inherited_external (a member no in-repo class defines, taken from a base outside the repository) | ambiguous | unknown; wrapper (the wrapper a decorated def's decorators return); dispatch rows: dispatch_self | dispatch_cls | dispatch_annotation | dispatch_isinstance | dispatch_value | dispatch_super | dispatch_scip (how the receiver's type is known) | getattr_pattern; implicit rows: with | for | next | raise | callback | eval | property | operator
confidence DOUBLE -- 1.0 for scip, lower for static rules, at most 0.7 for one of several static callees of a site, 0.6 for dispatch (0.5 through SCIP's type or a getattr pattern) (docs/assets.md: call graph)
evidence JSON -- how it was resolved: {"scip_symbol": ..., "candidates": [...], "rule": ...}; candidates: the definitions the rule chose among (several callees of one site each have a row too), the first 16 by target, with "candidate_count" when there are more
""")

_table("graph", "symbol_use_edges", ("repo", "symbol", "use_rel_path", "use_goid"),
       "Uses of the repository's own symbols, from SCIP occurrences: which symbol (and which "
       "definition) is used from which enclosing definition in which file.", """
symbol VARCHAR -- SCIP symbol defined in the repository (core.scip_symbols.def_rel_path not NULL); `local N` symbols never appear
def_rel_path VARCHAR -- file of the symbol's definition
def_goid DECIMAL(38,0) -- GOID whose SCIP symbol it is (core.goid_crosswalk); for a definition in a stub a .py implements (core.goids.shadowed_stub), the definition its name is bound to in the implementation (NULL where it is bound to none); NULL for variables, attributes and parameters
use_rel_path VARCHAR -- file of the uses
use_goid DECIMAL(38,0) -- innermost module, class, function or method GOID enclosing the uses
use_count INTEGER -- non-definition occurrences of the symbol there
same_file BOOLEAN -- use_rel_path = def_rel_path
same_module BOOLEAN -- the use's module is the definition's module
""")

_table("graph", "import_graph_edges", ("repo", "src_module", "dst_module"),
       "The module import graph: one row per importing module and imported module (internal) "
       "or top-level package (external), from core.imports resolved against core.modules.", """
src_module VARCHAR -- the importing module
dst_module VARCHAR -- the longest prefix of the import target that is a module of core.modules; for an external target its top-level package (os.path -> os)
edge_count INTEGER -- import statements behind the edge
is_external BOOLEAN -- the target is outside the repository (no prefix of it is a module of core.modules)
type_checking_only BOOLEAN -- every statement behind the edge is inside `if TYPE_CHECKING:`
function_scope_only BOOLEAN -- every statement behind the edge is inside a def
src_fan_out INTEGER -- distinct internal modules src_module imports
dst_fan_in INTEGER -- distinct modules of the repository importing dst_module
cycle_group INTEGER -- the scc_id src_module and dst_module share when both are in one import cycle, else NULL
""")

_table("graph", "import_modules", ("repo", "module"),
       "One row per module of core.modules: its place in the internal import graph (fan in/out, "
       "strongly connected component, layer).", """
module VARCHAR -- module of core.modules
rel_path VARCHAR -- the module's file
fan_in INTEGER -- distinct internal modules importing it
fan_out INTEGER -- distinct internal modules it imports
scc_id INTEGER -- its strongly connected component: 1, 2, ... in the order of each component's smallest module name
component_size INTEGER -- modules in that component
in_cycle BOOLEAN -- component_size > 1 (the module is in an import cycle)
layer INTEGER -- depth of its component in the condensation DAG: 0 = imports no internal module outside its component, else 1 + the highest layer it imports
""")



_table("analytics", "graph_metrics_functions", ("repo", "goid"),
       "Call-graph measures of every node of graph.call_graph_nodes.", """
goid DECIMAL(38,0) -- node of graph.call_graph_nodes
fan_in INTEGER -- distinct callers
fan_out INTEGER -- distinct callees
in_degree INTEGER -- call sites calling it
out_degree INTEGER -- resolved call sites in it
pagerank DOUBLE -- PageRank (damping 0.85) over caller -> callee edges
betweenness DOUBLE -- normalised betweenness centrality
betweenness_method VARCHAR -- exact | sampled k=<sources> seed=<seed>
closeness DOUBLE -- closeness centrality (Wasserman-Faust, over incoming distances)
scc_id INTEGER -- strongly connected component: 1, 2, ... in the order of each component's smallest goid
component_size INTEGER -- nodes in that component
in_cycle BOOLEAN -- in a recursion cycle (component_size > 1, or it calls itself)
layer INTEGER -- depth of its component in the condensation DAG (0 = calls nothing outside it)
""")

_table("analytics", "graph_metrics_modules", ("repo", "module"),
       "Import-graph measures of every module, and its symbol fan in/out.", """
module VARCHAR -- module of core.modules
import_fan_in INTEGER -- distinct internal modules importing it
import_fan_out INTEGER -- distinct internal modules it imports
pagerank DOUBLE -- PageRank (damping 0.85) over importer -> imported edges
betweenness DOUBLE -- normalised betweenness centrality of the import graph
betweenness_method VARCHAR -- exact | sampled k=<sources> seed=<seed>
closeness DOUBLE -- closeness centrality (Wasserman-Faust)
scc_id INTEGER -- as graph.import_modules
component_size INTEGER -- as graph.import_modules
in_cycle BOOLEAN -- as graph.import_modules
layer INTEGER -- as graph.import_modules
symbol_fan_in INTEGER -- distinct other modules using its symbols (graph.symbol_use_edges)
symbol_fan_out INTEGER -- distinct other modules whose symbols it uses
""")

_table("analytics", "graph_stats", ("repo", "graph"),
       "One row per graph: size and shape.", """
graph VARCHAR -- call | import | symbol_use
nodes INTEGER -- nodes
edges INTEGER -- distinct directed edges between nodes
weak_components INTEGER -- weakly connected components
sccs INTEGER -- strongly connected components
layers INTEGER -- layers of the condensation DAG
avg_clustering DOUBLE -- average clustering coefficient of the undirected graph
diameter_estimate INTEGER -- diameter of the largest weak component, undirected
diameter_method VARCHAR -- exact | estimate (double sweep lower bound)
library VARCHAR -- graph library and version that computed the measures
""")
