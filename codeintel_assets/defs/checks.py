"""Asset checks: primary keys of every table, and GOID coverage of ast definitions."""


import dagster as dg

from codeintel_assets.defs.common import key
from codeintel_assets.defs.ingest import INGEST_ASSETS
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.storage.catalog import TableSpec, table

DEF_NODES = ("ClassDef", "FunctionDef", "AsyncFunctionDef")


def primary_key_check(spec: TableSpec) -> dg.AssetChecksDefinition:
    """Fails when this repository's rows repeat a primary key or leave a key column NULL."""
    pk = ", ".join(f'"{c}"' for c in spec.primary_key)
    nulls = " OR ".join(f'"{c}" IS NULL' for c in spec.primary_key)

    @dg.asset_check(asset=key(spec.qualified_name), name="primary_key_unique_not_null",
                    description=f"({pk}) is unique and non-null in {spec.qualified_name}.")
    def _check(target: TargetRepo, warehouse: Warehouse) -> dg.AssetCheckResult:
        row = warehouse.gateway().query(
            f"SELECT count(*) AS row_count, "
            f"count(*) FILTER (WHERE {nulls}) AS null_keys, "
            f"(SELECT count(*) FROM (SELECT {pk} FROM {spec.qualified_name} WHERE repo = $1 "
            f"GROUP BY ALL HAVING count(*) > 1)) AS duplicate_keys "
            f"FROM {spec.qualified_name} WHERE repo = $1", (target.info().slug,)).to_pylist()[0]
        return dg.AssetCheckResult(
            passed=row["null_keys"] == 0 and row["duplicate_keys"] == 0, metadata=row)

    return _check


@dg.asset_check(
    asset=key("core.goids"), additional_deps=[key("core.ast_nodes")],
    description="Every ClassDef/FunctionDef/AsyncFunctionDef row of core.ast_nodes has exactly "
    "one GOID (matched on rel_path and qualname).",
)
def every_definition_has_one_goid(target: TargetRepo, warehouse: Warehouse) -> dg.AssetCheckResult:
    row = warehouse.gateway().query(
        """
        WITH defs AS (
            SELECT a.rel_path, a.qualname, count(g.goid) AS goid_count
            FROM core.ast_nodes a
            LEFT JOIN core.goids g
              ON g.repo = a.repo AND g.rel_path = a.rel_path AND g.qualname = a.qualname
            WHERE a.repo = $1 AND a.node_type IN ('ClassDef', 'FunctionDef', 'AsyncFunctionDef')
            GROUP BY ALL
        )
        SELECT count(*) AS definitions,
               count(*) FILTER (WHERE goid_count = 0) AS without_goid,
               count(*) FILTER (WHERE goid_count > 1) AS with_several_goids
        FROM defs
        """, (target.info().slug,)).to_pylist()[0]
    return dg.AssetCheckResult(
        passed=row["without_goid"] == 0 and row["with_several_goids"] == 0, metadata=row)


def _produced_tables() -> list[str]:
    return [".".join(k.path) for a in INGEST_ASSETS for k in a.keys]


CHECKS = [primary_key_check(table(t)) for t in _produced_tables()] + [every_definition_has_one_goid]
