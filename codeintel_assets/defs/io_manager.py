"""The DuckDB IO manager: stores every `[schema, table]` asset through the StorageGateway and
hands downstream assets a TableHandle; plus the markdown preview of what it wrote."""

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa

from codeintel_assets.defs.resources import Warehouse
from codeintel_assets.storage.catalog import TableSpec, table
from codeintel_assets.storage.gateway import (
    Derived,
    FileDelta,
    Sql,
    StalePlanError,
    Unchanged,
)
from codeintel_assets.storage.view_spec import MadeView, ViewSpec

# A delta planned against a ledger another writer changed since is planned again by running
# the step again: a few times, a little apart (each retry re-plans against the new ledger).
STALE_PLAN_RETRIES = 3
STALE_PLAN_RETRY_WAIT_S = 0.5


@dataclass(frozen=True)
class TableHandle:
    """What a downstream asset receives for a warehouse table: a name it can query lazily."""

    warehouse: Warehouse
    spec: TableSpec

    def arrow(self, columns: list[str] | None = None,
              equal: Mapping[str, object] | None = None) -> pa.Table:
        """The target repository's rows (`columns`, default all) whose columns equal the
        values of `equal`; raises UpstreamMissingError when the table was never written."""
        return self.warehouse.read(self.spec.qualified_name, columns, equal=equal)


class DuckDBIOManager(dg.ConfigurableIOManager):
    """Stores each `[schema, table]` asset as DuckDB table `schema.table` via the gateway.

    Outputs may be a pyarrow Table (loaded zero-copy) or a `Sql` SELECT run inside DuckDB, each
    replacing the target repository's rows in one transaction, or a `FileDelta`, which replaces
    only the rows of changed files (see StorageGateway.apply_delta). Other repositories' rows
    stay. A FileDelta planned against a ledger that changed since (StalePlanError) requests a
    retry of its step, up to STALE_PLAN_RETRIES times. A `MadeView` (a view of storage/views.py
    the docs_views step created or kept) is described (asset metadata kind 'view'). A `Derived` replaces the rows
    and records the input digest they were built from; an `Unchanged` (a derived table whose
    inputs did not change, already brought to the new commit by the step) writes nothing.
    Inputs load as a `TableHandle`.
    """

    warehouse: Warehouse

    def handle_output(self, context: dg.OutputContext,
                      obj: pa.Table | Sql | FileDelta | Derived | Unchanged | MadeView) -> None:
        if isinstance(obj, Unchanged):  # no connection: the step's skip check did the write
            context.add_output_metadata({
                "dagster/row_count": obj.row_count, "unchanged": True,
                "input_digest": obj.input_digest, "commit": obj.commit})
            return
        if isinstance(obj, MadeView):  # the step created it (or kept it) already
            spec = obj.spec
            context.add_output_metadata({
                "kind": "view", "dagster/table_name": f"{self.warehouse.db_file()}:"
                f"{spec.qualified_name}", "dagster/column_schema": view_column_schema(spec),
                "unchanged": obj.columns is None, "columns": len(spec.columns),
                "reads": dg.MetadataValue.json(list(spec.reads)),
                "definition": dg.MetadataValue.md(f"```sql\n{spec.select.strip()}\n```"),
            })
            return
        gateway = self.warehouse.gateway(f"step {context.step_key} of run {context.run_id[:8]}",
                                         context.log.warning)
        spec = table(".".join(context.asset_key.path))
        repo = self.warehouse.target.info().slug
        delta = obj.data if isinstance(obj, Derived) and isinstance(obj.data, FileDelta) \
            else obj if isinstance(obj, FileDelta) else None
        if delta is not None:
            try:
                result = gateway.apply_delta(spec, repo, delta, obj.built_from
                                             if isinstance(obj, Derived) else None)
            except StalePlanError as exc:
                # Only a stale plan retries (a RetryPolicy would retry every failure, a
                # missing upstream or tool too): the step runs again and plans anew.
                context.log.warning(f"{spec.qualified_name}: {exc}; retrying the step")
                raise dg.RetryRequested(max_retries=STALE_PLAN_RETRIES,
                                        seconds_to_wait=STALE_PLAN_RETRY_WAIT_S) from exc
        else:
            result = gateway.replace_repo_rows(spec, repo, obj)
        derived = {"unchanged": False, "input_digest": obj.built_from} \
            if isinstance(obj, Derived) else {}
        context.add_output_metadata({**derived,
            "dagster/row_count": result.row_count,
            "dagster/table_name": f"{gateway.db_path}:{spec.qualified_name}",
            "dagster/column_schema": column_schema(spec),
            "migrated": result.migrated,
            "preview": dg.MetadataValue.md(_preview(spec, result.preview)),
        })

    def load_input(self, context: dg.InputContext) -> TableHandle:
        return TableHandle(self.warehouse, table(".".join(context.asset_key.path)))


def column_schema(spec: TableSpec) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.duckdb_type, description=c.description or None,
                       constraints=dg.TableColumnConstraints(nullable=c.name not in spec.primary_key))
        for c in spec.columns
    ])


def view_column_schema(spec: ViewSpec) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.duckdb_type,
                                                  description=c.description or None)
                                   for c in spec.columns])


def _preview(spec: TableSpec, rows: list[dict]) -> str:
    """A markdown table of the first rows written (first 8 columns after repo and commit)."""
    if not rows:
        return "_empty table_"
    cols = [c for c in spec.column_names if c not in ("repo", "commit")][:8]
    cell = lambda v: str(v).replace("|", "\\|").replace("\n", " ")[:60]  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
