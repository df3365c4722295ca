"""dagster-duckdb's `DuckDBResource` over the warehouse, for users' own SQL assets.

    @dg.asset(key=["reports", "big_files"], deps=[dg.AssetKey(["core", "file_state"])])
    def big_files(duckdb: DuckDBResource) -> None:
        with duckdb.get_connection() as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS reports; CREATE OR REPLACE TABLE "
                        "reports.big_files AS SELECT ... FROM core.file_state ...")

    defs = build_definitions(single(), extra_assets=[big_files])   # or fleet()

The resource key is `duckdb`. Its connection is the gateway's (storage/gateway.py): it waits
for the gateway's file lock, so a user's asset never races our writers, and it uses the
gateway's DuckDB configuration (DuckDB refuses two configurations for one file in one
process). In the fleet shape it is the run's partition's database.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from codeintel_assets.defs.resources import Warehouse


class WarehouseDuckDB(DuckDBResource):
    """A DuckDBResource whose database is the warehouse's (`database` is ignored)."""

    warehouse: Warehouse
    database: str = Field(default="", description="Ignored: the warehouse's DuckDB file.")
    read_only: bool = Field(default=False, description="Open the warehouse read-only.")

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse under the gateway's lock, closed on exit."""
        context = _context()
        label = f"duckdb resource in {context}" if context else None
        gateway = self.warehouse.gateway(label) if label else self.warehouse.gateway()
        with gateway.connect(read_only=self.read_only) as con:
            yield con


def _context() -> str:
    try:
        context = dg.OpExecutionContext.get()
    except dg.DagsterInvariantViolationError:
        return ""
    return f"step {context.op.name} of run {context.run_id[:8]}"
