"""Compare two warehouse files table by table: how the incremental-update property is checked
(by the tests and by the benchmark)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from codeintel_assets.storage.catalog import table

# Columns that legitimately differ between an incremental update and a full rebuild of the same
# tree: when the scan ran and what it found changed.
VOLATILE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "core.repo_map": ("generated_at", "files_added", "files_changed", "files_deleted",
                      "files_unchanged"),
}


def table_differences(db_a: str | Path, db_b: str | Path, tables: Iterable[str],
                      ignore: Mapping[str, tuple[str, ...]] = VOLATILE_COLUMNS
                      ) -> dict[str, int]:
    """{table: rows in one file and not the other (as multisets, both ways)} for the catalog
    `tables` that differ; {} when all are equal. Both files are opened read-only."""
    out = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{db_a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{db_b}' AS b (READ_ONLY)")
        for name in tables:
            cols = ", ".join(f'"{c}"' for c in table(name).column_names
                             if c not in ignore.get(name, ()))
            diff = sum(con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{name} "
                f"EXCEPT ALL SELECT {cols} FROM {y}.{name})").fetchall()[0][0]
                for x, y in (("a", "b"), ("b", "a")))
            if diff:
                out[name] = diff
    return out
