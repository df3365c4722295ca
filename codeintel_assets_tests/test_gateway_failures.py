"""A write the storage refuses surfaces with the database path and the real cause.

The failure is real: a child process lowers its file size limit (RLIMIT_FSIZE, with SIGXFSZ
ignored so the write returns EFBIG instead of killing it) below what DuckDB must write, the way
a full disk refuses a write. The cleanup after the failed COMMIT (a ROLLBACK of a transaction
DuckDB already ended) used to raise `cannot rollback - no transaction is active` over it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets_tests.test_gateway import file_batch

FILE_STATE = table("core.file_state")

CHILD = textwrap.dedent("""
    import json, resource, signal, sys
    from codeintel_assets.storage.catalog import table
    from codeintel_assets.storage.gateway import StorageGateway
    from codeintel_assets_tests.test_gateway import file_batch

    db, rows, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    gw = StorageGateway(db, lock_timeout_s=30)
    batch = file_batch("acme/a", [f"pkg/{'x' * 60}_{i}.py" for i in range(rows)], tag="n")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        gw.replace_repo_rows(table("core.file_state"), "acme/a", batch)
        print(json.dumps({"ok": True}))
    except BaseException as exc:
        print(json.dumps({"ok": False, "type": type(exc).__name__, "message": str(exc),
                          "notes": getattr(exc, "__notes__", []),
                          "cause": type(exc.__cause__).__name__}))
""")


def _write_in_child(db: Path, rows: int, limit: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), str(rows), str(limit)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_commit_refused_by_the_file_system_names_the_path_and_the_cause(tmp_path):
    db = tmp_path / "wh" / "codeintel.duckdb"
    gw = StorageGateway(db, lock_timeout_s=30)
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["old.py"]))
    # Fewer rows than a DuckDB row group stay in memory until COMMIT writes them to the WAL,
    # which the limit stops: the failure is the COMMIT's.
    got = _write_in_child(db, rows=20_000, limit=256 * 1024)

    assert got["ok"] is False
    assert got["type"] == "WriteError"
    assert str(db) in got["message"]
    assert "File too large" in got["message"]
    assert "core.file_state" in got["message"]
    assert "cannot rollback" not in got["message"]
    assert got["cause"] in ("TransactionException", "IOException")
    # The previous rows are intact: old or new, never partial.
    assert gw.read_table(FILE_STATE, repo="acme/a").column("rel_path").to_pylist() == ["old.py"]


def test_a_write_refused_before_the_commit_names_the_path_and_the_cause(tmp_path):
    db = tmp_path / "wh" / "codeintel.duckdb"
    gw = StorageGateway(db, lock_timeout_s=30)
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["old.py"]))
    # A batch beyond one row group is written to the database file during the INSERT.
    got = _write_in_child(db, rows=200_000, limit=1024 * 1024)

    assert (got["ok"], got["type"], got["cause"]) == (False, "WriteError", "IOException")
    assert str(db) in got["message"] and "File too large" in got["message"]
    assert gw.read_table(FILE_STATE, repo="acme/a").column("rel_path").to_pylist() == ["old.py"]


def test_data_errors_keep_their_type(tmp_path):
    """Only what the storage refuses becomes a WriteError; a failing SELECT stays the DuckDB
    error it is, and its ROLLBACK adds nothing to it."""
    from codeintel_assets.storage.gateway import Sql, WriteError

    gw = StorageGateway(tmp_path / "db.duckdb", lock_timeout_s=30)
    gw.replace_repo_rows(FILE_STATE, "acme/a", file_batch("acme/a", ["old.py"]))
    bad = Sql("""SELECT 'acme/a' AS repo, '' AS "commit", 'x.py' AS rel_path, 'python' AS language,
                        error('boom') AS size_bytes, 0 AS mtime_ns, '' AS content_hash,
                        'ok' AS parse_status, NULL AS parse_error, false AS is_vendored,
                        NULL AS vendored_reason, false AS is_stub""")
    with pytest.raises(duckdb.Error, match="boom") as caught:
        gw.replace_repo_rows(FILE_STATE, "acme/a", bad)
    assert not isinstance(caught.value, WriteError)
    assert not getattr(caught.value, "__notes__", [])
    assert gw.read_table(FILE_STATE, repo="acme/a").column("rel_path").to_pylist() == ["old.py"]
