"""The docs_views step: every view of storage/views.py as an asset (key [schema, name]), so
views appear in the UI, in selections (`--select '*docs/v_call_graph_enriched'`) and in
lineage. Each view's deps are exactly the tables it reads. The step brings the selected views
current over one connection (StorageGateway.replace_views: a view whose definition and code
are those it was created with is kept) and yields each as a MadeView, which the IO manager
only describes."""

import dagster as dg

from codeintel_assets.defs.common import POOL, key
from codeintel_assets.defs.io_manager import view_column_schema
from codeintel_assets.defs.resources import Warehouse
from codeintel_assets.storage.tokens import code_version
from codeintel_assets.storage.view_spec import MadeView
from codeintel_assets.storage.views import VIEWS, ViewSpec

ViewData = dg.PythonObjectDagsterType(MadeView, name="ViewData",
                                      description="storage.view_spec.MadeView")


def _out(spec: ViewSpec) -> dg.AssetOut:
    return dg.AssetOut(
        key=key(spec.qualified_name), group_name=spec.schema, dagster_type=ViewData,
        is_required=False, kinds={"duckdb", "view"},
        description=f"{spec.description}\n\nA view over {', '.join(spec.reads)}.",
        metadata={"dagster/column_schema": view_column_schema(spec),
                  "dagster/table_name": spec.qualified_name, "kind": "view"},
        automation_condition=dg.AutomationCondition.eager())


def _name(spec: ViewSpec) -> str:
    return key(spec.qualified_name).to_python_identifier()


@dg.multi_asset(
    name="docs_views", pool=POOL, can_subset=True,
    outs={_name(v): _out(v) for v in VIEWS.values()},
    deps=sorted({key(t) for v in VIEWS.values() for t in v.reads}, key=str),
    internal_asset_deps={_name(v): {key(t) for t in v.reads} for v in VIEWS.values()},
)
def docs_views(context: dg.AssetExecutionContext, warehouse: Warehouse):
    selected = [s for s in VIEWS.values() if key(s.qualified_name) in context.selected_asset_keys]
    warehouse.require(*dict.fromkeys(name for spec in selected for name in spec.reads))
    made = warehouse.gateway().replace_views(selected, code_version())
    for spec in selected:
        yield dg.Output(MadeView(spec, made[spec.qualified_name]), output_name=_name(spec))


VIEW_ASSETS = [docs_views]
