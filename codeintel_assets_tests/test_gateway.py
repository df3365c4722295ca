"""Tests for codeintel_assets.storage.gateway.StorageGateway against real DuckDB files."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import subprocess
import sys
import time
import traceback
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from codeintel_assets.storage import queries
from codeintel_assets.storage.catalog import TABLES, table
from codeintel_assets.storage.gateway import (
    SchemaMismatchError,
    Sql,
    StaleTableError,
    StorageGateway,
    WriteResult,
    conform,
)

FILE_STATE = table("core.file_state")
REPO_MAP = table("core.repo_map")
GOIDS = table("core.goids")
MODULES = table("core.modules")

COMMIT = "a" * 40


def file_rows(repo: str, paths: list[str], tag: str = "h") -> list[dict]:
    return [{"repo": repo, "commit": COMMIT, "rel_path": p, "language": "python",
             "size_bytes": 10 * (i + 1), "mtime_ns": 1_700_000_000_000_000_000 + i,
             "content_hash": f"{tag}{i:030d}", "parse_status": "ok", "parse_error": None}
            for i, p in enumerate(paths)]


def file_batch(repo: str, paths: list[str], tag: str = "h") -> pa.Table:
    return FILE_STATE.from_rows(file_rows(repo, paths, tag))


def rows_by_path(tbl: pa.Table) -> dict[str, dict]:
    return {r["rel_path"]: r for r in tbl.to_pylist()}


def count(gw: StorageGateway, qualified: str, repo: str | None = None) -> int:
    sql = f"SELECT count(*) AS n FROM {qualified}" + (" WHERE repo = $repo" if repo else "")
    return gw.query(sql, {"repo": repo} if repo else {}).column("n")[0].as_py()


@pytest.fixture
def gw(tmp_path: Path) -> StorageGateway:
    return StorageGateway(tmp_path / "wh" / "codeintel.duckdb", lock_timeout_s=60)


# ---- Arrow writes and reads ---------------------------------------------------------------


def test_write_then_read_back_with_columns_in_another_order(gw):
    batch = file_batch("acme/a", ["a.py", "pkg/b.py", "c.py"])
    shuffled = batch.select(list(reversed(batch.column_names)))
    assert shuffled.column_names != FILE_STATE.column_names

    result = gw.replace_repo_rows(FILE_STATE, "acme/a", shuffled)

    assert result == WriteResult("core.file_state", 3, False)
    assert gw.table_exists(FILE_STATE)
    back = gw.read_table(FILE_STATE, repo="acme/a")
    assert back.column_names == FILE_STATE.column_names
    assert back.schema.equals(FILE_STATE.arrow_schema)
    assert rows_by_path(back) == rows_by_path(batch)
    # The database stores exactly the catalog's columns, in the catalog's order.
    with gw.connect() as con:
        cols = [r[0] for r in con.execute("DESCRIBE core.file_state").fetchall()]
    assert cols == FILE_STATE.column_names


def test_conform_reorders_and_casts_by_name():
    batch = file_batch("r", ["x.py"])
    loose = pa.table({
        "parse_error": pa.array([None], pa.string()),
        "size_bytes": pa.array([5], pa.int32()),  # widened to BIGINT's int64
        **{c: batch.column(c) for c in FILE_STATE.column_names
           if c not in ("parse_error", "size_bytes")},
    })
    out = conform(FILE_STATE, loose)
    assert out.schema.equals(FILE_STATE.arrow_schema)
    assert out.column("size_bytes").to_pylist() == [5]


def test_read_table_columns_where_and_missing_table(gw):
    # Absent table: an empty table with the catalog schema (or the requested columns).
    assert not gw.table_exists(FILE_STATE)
    empty = gw.read_table(FILE_STATE, repo="acme/a")
    assert empty.num_rows == 0 and empty.schema.equals(FILE_STATE.arrow_schema)
    assert gw.read_table(FILE_STATE, columns=["rel_path"]).column_names == ["rel_path"]

    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py", "b.py", "c.py"]))
    got = gw.read_table(FILE_STATE, repo="acme/a", columns=["rel_path", "size_bytes"],
                        where="size_bytes >= $min", params={"min": 20})
    assert got.column_names == ["rel_path", "size_bytes"]
    assert sorted(got.column("rel_path").to_pylist()) == ["b.py", "c.py"]


def test_named_queries_bind_values_and_check_column_names(gw):
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py", "b.py", "c'.py"]))
    gw.replace_repo_rows(FILE_STATE, "acme/b", file_batch("acme/b", ["a.py"]))
    paths = queries.rows(gw, FILE_STATE, "acme/a", ["rel_path"], paths=["a.py", "c'.py", "z.py"])
    assert sorted(paths.column(0).to_pylist()) == ["a.py", "c'.py"]  # a quote is only a value
    got = queries.rows(gw, FILE_STATE, "acme/a", ["rel_path", "size_bytes"],
                       equal={"size_bytes": 20}, one_of={"rel_path": ["a.py", "b.py"]})
    assert got.to_pylist() == [{"rel_path": "b.py", "size_bytes": 20}]
    state = queries.file_state(gw, "acme/a", python=True)
    assert state.column_names == queries.FILE_STATE_COLUMNS and state.num_rows == 3
    assert queries.file_state(gw, "acme/a", python=False).num_rows == 0
    # Column names are the catalog's or nothing: no text of a caller reaches the SQL.
    with pytest.raises(ValueError, match="no column"):
        queries.rows(gw, FILE_STATE, "acme/a", equal={"1=1 OR rel_path": "x"})
    with pytest.raises(ValueError, match="no column"):
        queries.rows(gw, FILE_STATE, "acme/a", ['rel_path", "repo'])
    with pytest.raises(ValueError, match="no path column"):
        queries.rows(gw, REPO_MAP, "acme/a", paths=["a.py"])


def test_replacing_one_repo_keeps_the_other(gw):
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a1.py", "a2.py"]))
    b_batch = file_batch("acme/b", ["b1.py", "b2.py", "b3.py"], tag="b")
    gw.replace_repo_rows(FILE_STATE, "acme/b", b_batch)

    result = gw.replace_repo_rows(FILE_STATE, "acme/a",
                                  file_batch("acme/a", ["new.py"], tag="n"))

    assert result.row_count == 1 and not result.migrated
    assert gw.read_table(FILE_STATE, repo="acme/a").column("rel_path").to_pylist() == ["new.py"]
    assert rows_by_path(gw.read_table(FILE_STATE, repo="acme/b")) == rows_by_path(b_batch)
    assert count(gw, "core.file_state") == 4


def test_empty_batch_creates_an_empty_table(gw):
    result = gw.replace_repo_rows(FILE_STATE, "acme/a", FILE_STATE.empty())
    assert result == WriteResult("core.file_state", 0, False)
    assert gw.table_exists(FILE_STATE)
    assert gw.read_table(FILE_STATE).num_rows == 0


def test_empty_batch_clears_only_that_repo(gw):
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py", "b.py"]))
    gw.replace_repo_rows(FILE_STATE, "acme/b", file_batch("acme/b", ["z.py"]))

    result = gw.replace_repo_rows(FILE_STATE, "acme/a", FILE_STATE.empty())

    assert result.row_count == 0
    assert gw.table_exists(FILE_STATE)
    assert gw.read_table(FILE_STATE, repo="acme/a").num_rows == 0
    assert gw.read_table(FILE_STATE, repo="acme/b").column("rel_path").to_pylist() == ["z.py"]


# ---- schema validation -------------------------------------------------------------------


def _seed(gw: StorageGateway) -> pa.Table:
    batch = file_batch("acme/a", ["keep1.py", "keep2.py"])
    gw.replace_repo_rows(FILE_STATE, "acme/a", batch)
    return batch


def test_missing_column_is_refused_and_nothing_is_touched(gw):
    seeded = _seed(gw)
    bad = file_batch("acme/a", ["other.py"]).drop_columns(["content_hash"])
    with pytest.raises(SchemaMismatchError, match=r"content_hash") as info:
        gw.replace_repo_rows(FILE_STATE, "acme/a", bad)
    assert "missing ['content_hash']" in str(info.value)
    assert "core.file_state" in str(info.value)
    assert rows_by_path(gw.read_table(FILE_STATE, repo="acme/a")) == rows_by_path(seeded)


def test_extra_column_is_refused_and_nothing_is_touched(gw):
    seeded = _seed(gw)
    bad = file_batch("acme/a", ["other.py"]).append_column("surprise", pa.array([1]))
    with pytest.raises(SchemaMismatchError, match=r"surprise") as info:
        gw.replace_repo_rows(FILE_STATE, "acme/a", bad)
    assert "unexpected ['surprise']" in str(info.value)
    assert rows_by_path(gw.read_table(FILE_STATE, repo="acme/a")) == rows_by_path(seeded)


def test_extra_column_on_a_fresh_database_creates_nothing(gw):
    bad = file_batch("acme/a", ["x.py"]).append_column("surprise", pa.array([1]))
    with pytest.raises(SchemaMismatchError):
        gw.replace_repo_rows(FILE_STATE, "acme/a", bad)
    assert not gw.table_exists(FILE_STATE)


def test_uncastable_column_type_is_a_schema_mismatch(gw):
    seeded = _seed(gw)
    bad = file_batch("acme/a", ["x.py"]).set_column(
        FILE_STATE.column_names.index("size_bytes"), "size_bytes", pa.array(["not a number"]))
    with pytest.raises(SchemaMismatchError, match="column types do not match"):
        gw.replace_repo_rows(FILE_STATE, "acme/a", bad)
    assert rows_by_path(gw.read_table(FILE_STATE, repo="acme/a")) == rows_by_path(seeded)


def test_sql_with_wrong_columns_is_refused_and_nothing_is_touched(gw):
    seeded = _seed(gw)
    # Derives from file_state but misses most repo_map columns and adds one of its own.
    gw.replace_repo_rows(REPO_MAP, "acme/a", REPO_MAP.from_rows([{"repo": "acme/a",
                                                                  "file_count": 2}]))
    bad = Sql('SELECT repo, any_value("commit") AS "commit", count(*) AS n_files '
              "FROM core.file_state WHERE repo = $repo GROUP BY repo", {"repo": "acme/a"})
    with pytest.raises(SchemaMismatchError) as info:
        gw.replace_repo_rows(REPO_MAP, "acme/a", bad)
    msg = str(info.value)
    assert "core.repo_map" in msg and "n_files" in msg and "file_count" in msg
    assert gw.read_table(REPO_MAP, repo="acme/a").column("file_count").to_pylist() == [2]
    assert rows_by_path(gw.read_table(FILE_STATE, repo="acme/a")) == rows_by_path(seeded)


# ---- SQL writes ----------------------------------------------------------------------------


REPO_MAP_FROM_FILE_STATE = """
SELECT repo, any_value("commit") AS "commit", 'main' AS branch, false AS dirty,
       TIMESTAMP '2024-01-02 03:04:05' AS commit_ts, $root AS repo_root,
       0 AS module_count, count(*) AS file_count,
       0 AS files_changed, count(*) AS files_added, 0 AS files_deleted, 0 AS files_unchanged,
       0 AS symlinks_skipped, 0 AS unreadable_paths,
       TIMESTAMP '2024-01-02 03:04:06' AS generated_at
FROM core.file_state WHERE repo = $repo GROUP BY repo
"""


def test_sql_write_runs_insert_select_in_the_database(gw):
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py", "b.py", "c.py"]))
    gw.replace_repo_rows(FILE_STATE, "acme/b", file_batch("acme/b", ["z.py"]))

    result = gw.replace_repo_rows(REPO_MAP, "acme/a",
                                  Sql(REPO_MAP_FROM_FILE_STATE, {"root": "/src/a", "repo": "acme/a"}))
    gw.replace_repo_rows(REPO_MAP, "acme/b", Sql(REPO_MAP_FROM_FILE_STATE, {"root": "/src/b", "repo": "acme/b"}))

    assert result == WriteResult("core.repo_map", 1, False)
    rows = {r["repo"]: r for r in gw.read_table(REPO_MAP).to_pylist()}
    assert set(rows) == {"acme/a", "acme/b"}
    a = rows["acme/a"]
    assert (a["commit"], a["branch"], a["dirty"], a["repo_root"]) == (COMMIT, "main", False,
                                                                        "/src/a")
    assert a["file_count"] == 3 and a["files_added"] == 3 and rows["acme/b"]["file_count"] == 1
    assert a["commit_ts"] == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert gw.read_table(REPO_MAP).schema.equals(REPO_MAP.arrow_schema)

    # Re-running replaces (does not duplicate) the repo's row.
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["only.py"]))
    gw.replace_repo_rows(REPO_MAP, "acme/a", Sql(REPO_MAP_FROM_FILE_STATE, {"root": "/src/a", "repo": "acme/a"}))
    got = gw.read_table(REPO_MAP, repo="acme/a").to_pylist()
    assert len(got) == 1 and got[0]["file_count"] == 1
    assert gw.read_table(REPO_MAP, repo="acme/b").column("file_count").to_pylist() == [1]


def test_sql_write_from_a_helper_table(gw):
    with gw.connect() as con:
        con.execute("CREATE TABLE staging AS SELECT * FROM (VALUES "
                    "('acme/a', 'x.py', 1), ('acme/a', 'y.py', 2), ('acme/b', 'z.py', 3)"
                    ") v(repo, path, n)")
    sql = Sql("""SELECT repo, $commit AS "commit", path AS rel_path, 'python' AS language,
                        n * 100 AS size_bytes, n AS mtime_ns, md5(path) AS content_hash,
                        'ok' AS parse_status, NULL AS parse_error, false AS is_vendored,
                      NULL AS vendored_reason, false AS is_stub
                 FROM staging WHERE repo = $repo""", {"commit": COMMIT, "repo": "acme/a"})
    result = gw.replace_repo_rows(FILE_STATE, "acme/a", sql)

    assert result.row_count == 2
    rows = rows_by_path(gw.read_table(FILE_STATE, repo="acme/a"))
    assert set(rows) == {"x.py", "y.py"}
    assert rows["y.py"]["size_bytes"] == 200 and rows["y.py"]["parse_error"] is None
    assert count(gw, "core.file_state") == 2


# ---- transactions ------------------------------------------------------------------------


FAILING_SELECTS = {
    # Column names pass the DESCRIBE check; the CAST fails only when rows are produced.
    "cast": """SELECT repo, $commit AS "commit", path AS rel_path, 'python' AS language,
                      CAST(path AS BIGINT) AS size_bytes, 0 AS mtime_ns, '' AS content_hash,
                      'ok' AS parse_status, NULL AS parse_error, false AS is_vendored,
                      NULL AS vendored_reason, false AS is_stub
               FROM staging WHERE repo = $repo""",
    "error": """SELECT repo, $commit AS "commit", path AS rel_path, 'python' AS language,
                       error('boom ' || path) AS size_bytes, 0 AS mtime_ns, '' AS content_hash,
                       'ok' AS parse_status, NULL AS parse_error, false AS is_vendored,
                      NULL AS vendored_reason, false AS is_stub
                FROM staging WHERE repo = $repo""",
}


@pytest.mark.parametrize("kind", sorted(FAILING_SELECTS))
def test_failed_write_keeps_the_previous_rows(gw, kind):
    seeded = _seed(gw)
    with gw.connect() as con:
        con.execute("CREATE TABLE staging AS SELECT 'acme/a' AS repo, 'not-a-number' AS path")

    with pytest.raises(duckdb.Error):
        gw.replace_repo_rows(FILE_STATE, "acme/a", Sql(FAILING_SELECTS[kind], {"commit": COMMIT, "repo": "acme/a"}))

    assert rows_by_path(gw.read_table(FILE_STATE, repo="acme/a")) == rows_by_path(seeded)
    # The gateway still works afterwards (no transaction left open, lock released).
    assert gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["n.py"])).row_count == 1


def test_failed_write_during_migration_rolls_back_the_migration(gw):
    with gw.connect() as con:
        con.execute("CREATE SCHEMA core")
        con.execute("CREATE TABLE core.file_state (repo VARCHAR, rel_path VARCHAR)")
        con.execute("INSERT INTO core.file_state VALUES ('acme/a', 'old.py'), ('acme/b', 'o.py')")
        con.execute("CREATE TABLE staging AS SELECT 'acme/a' AS repo, 'not-a-number' AS path")

    with pytest.raises(duckdb.Error):
        gw.replace_repo_rows(FILE_STATE, "acme/a", Sql(FAILING_SELECTS["cast"], {"commit": COMMIT, "repo": "acme/a"}))

    with gw.connect() as con:
        cols = [r[0] for r in con.execute("DESCRIBE core.file_state").fetchall()]
        rows = sorted(con.execute("SELECT * FROM core.file_state").fetchall())
    assert cols == ["repo", "rel_path"]
    assert rows == [("acme/a", "old.py"), ("acme/b", "o.py")]


# ---- migration -----------------------------------------------------------------------------


def test_write_migrates_a_table_with_old_columns(gw):
    with gw.connect() as con:
        con.execute("CREATE SCHEMA core")
        con.execute("CREATE TABLE core.file_state (repo VARCHAR, rel_path VARCHAR)")
        con.execute("INSERT INTO core.file_state VALUES ('acme/a', 'old.py'), ('acme/o', 'o.py')")
    assert gw.table_exists(FILE_STATE)
    # Reading a column the stale table lacks is an error, not a silently empty table...
    with pytest.raises(StaleTableError, match="older catalog"):
        gw.read_table(FILE_STATE)
    # ...but the columns it still has can be read.
    assert gw.read_table(FILE_STATE, "acme/a", ["rel_path"]).to_pylist() == [{"rel_path": "old.py"}]

    batch = file_batch("acme/a", ["a.py", "b.py"])
    result = gw.replace_repo_rows(FILE_STATE, "acme/a", batch)

    assert result == WriteResult("core.file_state", 2, True)
    with gw.connect() as con:
        described = [(r[0], r[1]) for r in con.execute("DESCRIBE core.file_state").fetchall()]
    assert described == [(c.name, c.duckdb_type) for c in FILE_STATE.columns]
    assert rows_by_path(gw.read_table(FILE_STATE, "acme/a")) == rows_by_path(batch)
    # Another repository's rows survive the migration, new columns NULL until re-ingested.
    (other,) = gw.read_table(FILE_STATE, "acme/o").to_pylist()
    assert other["rel_path"] == "o.py" and other["content_hash"] is None

    # A second write of the now-current table is not a migration and keeps other repos.
    gw.replace_repo_rows(FILE_STATE, "acme/b", file_batch("acme/b", ["z.py"]))
    again = gw.replace_repo_rows(FILE_STATE, "acme/a", batch)
    assert again.migrated is False
    assert count(gw, "core.file_state") == 4


def test_batch_rows_of_another_repo_are_refused(gw):
    gw.replace_repo_rows(FILE_STATE, "acme/b", file_batch("acme/b", ["z.py"]))
    with pytest.raises(SchemaMismatchError, match="not of repo 'acme/a'"):
        gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/b", ["x.py"]))
    with pytest.raises(SchemaMismatchError, match="other repositories"):
        gw.replace_repo_rows(FILE_STATE, "acme/a", Sql(
            "SELECT * REPLACE ('x.py' AS rel_path) FROM core.file_state"))
    assert count(gw, "core.file_state") == 1


def test_write_waits_for_an_outside_read_only_connection(gw, tmp_path):
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    code = (f"import duckdb, time; c = duckdb.connect({str(gw.db_path)!r}, read_only=True); "
            "print('open', flush=True); time.sleep(1.5); c.close()")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    started = time.monotonic()
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py", "b.py"]))
    holder.wait()
    assert time.monotonic() - started > 0.5  # it waited for the outside reader to let go
    assert count(gw, "core.file_state") == 2


def test_write_migrates_a_table_with_a_changed_column_type(gw):
    with gw.connect() as con:
        con.execute("CREATE SCHEMA core")
        con.execute(FILE_STATE.ddl().replace('"size_bytes" BIGINT', '"size_bytes" INTEGER'))
    result = gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["a.py"]))
    assert result.migrated is True
    with gw.connect() as con:
        described = [(r[0], r[1]) for r in con.execute("DESCRIBE core.file_state").fetchall()]
    assert described == [(c.name, c.duckdb_type) for c in FILE_STATE.columns]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_catalog_table_round_trips_without_spurious_migration(tmp_path, name):
    # DuckDB's reported types must equal the catalog's spelling, else every write would
    # "migrate" (drop) the table and lose the other repositories' rows.
    gw = StorageGateway(tmp_path / "db.duckdb")
    spec = table(name)
    first = gw.replace_repo_rows(spec, "acme/a", spec.from_rows([{"repo": "acme/a"}]))
    second = gw.replace_repo_rows(spec, "acme/b", spec.from_rows([{"repo": "acme/b"}]))
    assert (first.migrated, second.migrated) == (False, False)
    assert count(gw, name) == 2
    assert gw.read_table(spec).schema.equals(spec.arrow_schema)


# ---- types ---------------------------------------------------------------------------------


def test_decimal_38_0_round_trips(gw):
    big = Decimal(10**38 - 1)
    goids = [big, Decimal(0), Decimal(12345678901234567890123456789012345678), Decimal(1)]
    rows = [{"repo": "acme/a", "commit": COMMIT, "goid": g, "urn": f"goid:acme/a/m.py#{i}",
             "rel_path": "m.py", "module": "m", "language": "python", "kind": "function",
             "qualname": f"m.f{i}", "start_line": i, "end_line": i + 1, "name_line": i,
             "name_col": 4} for i, g in enumerate(goids)]
    gw.replace_repo_rows(GOIDS, "acme/a", GOIDS.from_rows(rows))

    back = gw.read_table(GOIDS, repo="acme/a")
    assert back.schema.field("goid").type == pa.decimal128(38, 0)
    assert sorted(back.column("goid").to_pylist()) == sorted(goids)
    with gw.connect() as con:
        assert con.execute("SELECT max(goid) FROM core.goids").fetchone()[0] == big
        assert con.execute("SELECT typeof(goid) FROM core.goids LIMIT 1").fetchone()[0] \
            == "DECIMAL(38,0)"


def test_json_columns_round_trip(gw):
    tags = ["api", "café", 'quote"d']
    owners: list[str] = []
    rows = [{"repo": "acme/a", "commit": COMMIT, "module": "pkg.mod", "rel_path": "pkg/mod.py",
             "language": "python", "is_package": False, "source_root": "",
             "tags": json.dumps(tags), "owners": json.dumps(owners)},
            {"repo": "acme/a", "commit": COMMIT, "module": "pkg", "rel_path": "pkg/__init__.py",
             "language": "python", "is_package": True, "source_root": "",
             "tags": None, "owners": json.dumps([{"team": "@acme/x"}])}]
    gw.replace_repo_rows(MODULES, "acme/a", MODULES.from_rows(rows))

    back = {r["module"]: r for r in gw.read_table(MODULES, repo="acme/a").to_pylist()}
    assert json.loads(back["pkg.mod"]["tags"]) == tags
    assert json.loads(back["pkg.mod"]["owners"]) == []
    assert back["pkg"]["tags"] is None
    assert json.loads(back["pkg"]["owners"]) == [{"team": "@acme/x"}]
    assert back["pkg"]["is_package"] is True
    with gw.connect() as con:
        # Stored as real JSON: DuckDB's JSON functions work on the column.
        assert con.execute("SELECT typeof(tags), json_array_length(tags), tags->>'$[1]' "
                           "FROM core.modules WHERE module = 'pkg.mod'").fetchone() \
            == ("JSON", 3, "café")


def test_invalid_json_text_is_rejected_and_keeps_old_rows(gw):
    good = MODULES.from_rows([{"repo": "acme/a", "module": "m", "tags": "[]"}])
    gw.replace_repo_rows(MODULES, "acme/a", good)
    bad = MODULES.from_rows([{"repo": "acme/a", "module": "m2", "tags": "{not json"}])
    with pytest.raises(duckdb.Error):
        gw.replace_repo_rows(MODULES, "acme/a", bad)
    assert gw.read_table(MODULES, repo="acme/a").column("module").to_pylist() == ["m"]


# ---- cross-process lock ------------------------------------------------------------------

ROUNDS = 20  # write + read operations per process


def _hammer(db_path: str, worker: int, err_path: str, barrier) -> None:
    """Spawned target: alternate between an own repo and a shared repo, each write then read."""
    try:
        gw = StorageGateway(Path(db_path), lock_timeout_s=60)
        own = f"acme/w{worker}"
        barrier.wait(timeout=60)  # start together so the two processes really contend
        for i in range(ROUNDS // 2):
            if i % 2 == 0:
                paths = [f"w{worker}_r{i}_{k}.py" for k in range(1 + i % 3)]
                res = gw.replace_repo_rows(FILE_STATE, own, file_batch(own, paths, f"w{worker}"))
                assert res.row_count == len(paths), res
                got = gw.read_table(FILE_STATE, repo=own).column("rel_path").to_pylist()
                assert sorted(got) == sorted(paths), (got, paths)
            else:
                shared = [f"shared_w{worker}_r{i}_{k}.py" for k in range(5)]
                gw.replace_repo_rows(FILE_STATE, "acme/shared", file_batch("acme/shared", shared))
                snap = gw.read_table(FILE_STATE, repo="acme/shared").column("rel_path").to_pylist()
                # Always one writer's complete batch: never empty, partial or mixed.
                assert len(snap) == 5, snap
                assert len({p.rsplit("_", 1)[0] for p in snap}) == 1, snap
    except BaseException:
        Path(err_path).write_text(traceback.format_exc())
        raise


def test_two_processes_write_and_read_concurrently(tmp_path):
    db = tmp_path / "shared.duckdb"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    errs = [tmp_path / f"err{w}.txt" for w in range(2)]
    procs = [ctx.Process(target=_hammer, args=(str(db), w, str(errs[w]), barrier))
             for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join()
    failures = {str(e): e.read_text() for e in errs if e.exists()}
    assert not failures, failures
    assert [p.exitcode for p in procs] == [0, 0]

    gw = StorageGateway(db)
    last_own = max(i for i in range(ROUNDS // 2) if i % 2 == 0)
    last_shared = max(i for i in range(ROUNDS // 2) if i % 2 == 1)
    for w in range(2):
        own = gw.read_table(FILE_STATE, repo=f"acme/w{w}").column("rel_path").to_pylist()
        assert sorted(own) == sorted(f"w{w}_r{last_own}_{k}.py" for k in range(1 + last_own % 3))
    shared = sorted(gw.read_table(FILE_STATE, repo="acme/shared").column("rel_path").to_pylist())
    assert shared in [sorted(f"shared_w{w}_r{last_shared}_{k}.py" for k in range(5))
                      for w in range(2)]
    assert count(gw, "core.file_state") == 5 + 2 * (1 + last_own % 3)
