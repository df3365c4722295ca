"""Compare two warehouse files table by table: how the incremental-update property is checked
(by the tests and by the benchmark)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway

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
    `tables` that differ; {} when all are equal. `db_a` is read through its gateway (its lock,
    read-only); `db_b` is attached read-only by a bound path. Raises FileNotFoundError when
    `db_b` does not exist."""
    if not Path(db_b).exists():
        raise FileNotFoundError(f"no warehouse at {db_b}")
    out = {}
    with StorageGateway(Path(db_a)).connect(read_only=True) as con:
        (own,) = con.execute("SELECT current_database()").fetchone()
        con.execute("ATTACH $path AS b (READ_ONLY)", {"path": str(db_b)})
        a = '"' + own.replace('"', '""') + '"'
        for name in tables:
            cols = ", ".join(f'"{c}"' for c in table(name).column_names
                             if c not in ignore.get(name, ()))
            diff = sum(con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{name} "
                f"EXCEPT ALL SELECT {cols} FROM {y}.{name})").fetchall()[0][0]
                for x, y in ((a, "b"), ("b", a)))
            if diff:
                out[name] = diff
    return out
