"""Every view of the warehouse (docs.v_*): docs.v_call_graph_enriched here, the function
layer's in storage/views_functions.py; each registers itself in VIEWS (storage/view_spec.py,
which also says how views are declared and created)."""

from __future__ import annotations

from codeintel_assets.storage import views_functions  # noqa: F401 - registers its views
from codeintel_assets.storage.view_spec import (  # noqa: F401 - re-exported
    VIEWS,
    ViewMismatchError,
    ViewSpec,
    create_view,
    define_view,
    view,
)

CALL_GRAPH_ENRICHED = define_view(
    "docs", "v_call_graph_enriched", ("graph.call_graph_edges", "graph.call_graph_nodes"),
    "Every call edge of graph.call_graph_edges with its caller's and callee's qualname, file "
    "and kind from graph.call_graph_nodes (callee columns NULL for unresolved, builtin and "
    "external calls).", """
repo VARCHAR -- repository slug
commit VARCHAR -- snapshot of the edge
caller_goid DECIMAL(38,0) -- the innermost definition enclosing the call
caller_qualname VARCHAR -- its qualname
caller_kind VARCHAR -- module | class | function | method
caller_rel_path VARCHAR -- its file
callsite_path VARCHAR -- file of the call
callsite_line INTEGER -- line of the call
callsite_col INTEGER -- column of the call
callee_goid DECIMAL(38,0) -- the called definition; NULL when not resolved to the repository
callee_qualname VARCHAR -- its qualname
callee_kind VARCHAR -- module | class | function | method
callee_rel_path VARCHAR -- its file
callee_name VARCHAR -- the callee expression as written
callee_target VARCHAR -- dotted target where known (builtins.len, os.path.join)
kind VARCHAR -- direct | implicit | unresolved (graph.call_graph_edges)
resolved_via VARCHAR -- the resolution rule (graph.call_graph_edges)
confidence DOUBLE -- 1.0 for scip, lower for static rules
""", """
SELECT e.repo, e."commit", e.caller_goid, cr.qualname AS caller_qualname,
       cr.kind AS caller_kind, cr.rel_path AS caller_rel_path,
       e.callsite_path, e.callsite_line, e.callsite_col,
       e.callee_goid, ce.qualname AS callee_qualname, ce.kind AS callee_kind,
       ce.rel_path AS callee_rel_path, e.callee_name, e.callee_target, e.kind,
       e.resolved_via, e.confidence
FROM graph.call_graph_edges e
LEFT JOIN graph.call_graph_nodes cr ON cr.repo = e.repo AND cr.goid = e.caller_goid
LEFT JOIN graph.call_graph_nodes ce ON ce.repo = e.repo AND ce.goid = e.callee_goid
""")
