"""The CLI's first steps: bad input is one line on stderr and exit 1 with nothing created, and
`query` writes its whole result as CSV, JSON lines or Parquet, up to a limit, within a time
bound.

Every case runs the real `codeintel-assets` of this virtualenv in a subprocess. The warehouses
queried are made by `materialize --select core/file_state` (the repo_scan step alone) of small
temp Git repositories, once per module.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from codeintel_assets_tests.conftest import make_git_repo
from codeintel_assets_tests.test_cli_e2e import (
    CMD_TIMEOUT_S,
    CODEINTEL,
    clean_env,
    describe,
)

FILES = {"pkg/__init__.py": "", "pkg/a.py": "def f(x):\n    return x\n",
         "pkg/b.py": "import pkg.a\n", "setup.cfg": "[metadata]\nname = pkg\n"}
ROWS_SQL = "SELECT rel_path, language, size_bytes FROM core.file_state ORDER BY rel_path"
# Seconds a query that is past its bound gets to stop, the CLI's start included.
STOP_BOUND_S = 30
SLOW_SQL = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"


def cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CODEINTEL), *map(str, args)], cwd=cwd, env=clean_env(),
                          check=False, capture_output=True, text=True, timeout=CMD_TIMEOUT_S)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The single line of stderr of a command that failed with exit status 1."""
    assert proc.returncode == 1, describe(proc)
    assert len(proc.stderr.splitlines()) == 1, describe(proc)
    return proc.stderr.strip()


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """A repository whose core.file_state is materialized (the default warehouse)."""
    repo = make_git_repo(tmp_path_factory.mktemp("wh") / "repo", FILES)
    proc = cli("materialize", "--target", repo, "--select", "core/file_state", cwd=repo)
    assert proc.returncode == 0, describe(proc)
    return repo


def expected_rows(repo: Path) -> list[dict]:
    with duckdb.connect(str(repo / ".codeintel" / "codeintel.duckdb"), read_only=True) as con:
        return con.sql(ROWS_SQL).to_arrow_table().to_pylist()


# ---- materialize: the target and the database's folder ---------------------------------------


def test_missing_target_is_one_line_and_creates_nothing(tmp_path):
    missing = tmp_path / "nonexistent"
    proc = cli("materialize", "--target", missing, cwd=tmp_path)
    assert one_error_line(proc) == f"materialize: target {missing} does not exist"
    assert not missing.exists()
    assert tree(tmp_path) == set()


def test_file_target_is_one_line_without_a_cascade_of_steps(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    for extra in ([], ["--db", tmp_path / "db" / "x.duckdb"]):
        proc = cli("materialize", "--target", tmp_path / "a.py", *extra, cwd=tmp_path)
        assert one_error_line(proc) == \
            f"materialize: target {tmp_path / 'a.py'} is not a directory"
        assert tree(tmp_path) == {"a.py"}  # no .codeintel beside it, no db folder


def test_summary_checks_the_target_and_needs_a_warehouse(tmp_path):
    proc = cli("summary", "--target", tmp_path / "nope", cwd=tmp_path)
    assert one_error_line(proc) == f"summary: target {tmp_path / 'nope'} does not exist"
    proc = cli("summary", "--target", tmp_path, cwd=tmp_path)
    db = tmp_path / ".codeintel" / "codeintel.duckdb"
    assert one_error_line(proc) == f"summary: no warehouse at {db}: materialize first"
    assert tree(tmp_path) == set()


def test_db_folder_that_cannot_be_made_is_one_line(tmp_path):
    repo = make_git_repo(tmp_path / "repo", FILES)
    before = tree(tmp_path)
    (tmp_path / "plain").write_text("")
    proc = cli("materialize", "--target", repo, "--db", tmp_path / "plain" / "x.duckdb",
               cwd=tmp_path)
    assert one_error_line(proc) == \
        f"materialize: cannot create {tmp_path / 'plain'}: Not a directory"
    assert tree(tmp_path) == before | {"plain"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_db_folder_without_write_permission_is_one_line(tmp_path):
    repo = make_git_repo(tmp_path / "repo", FILES)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        proc = cli("materialize", "--target", repo, "--db", locked / "x.duckdb", cwd=tmp_path)
        assert one_error_line(proc) == \
            f"materialize: cannot create {locked / 'logs'}: Permission denied"
        assert not any(locked.iterdir())
    finally:
        locked.chmod(0o755)


def test_non_utf8_file_name_is_logged_without_a_logging_error(tmp_path):
    repo = make_git_repo(tmp_path / "repo", {"ok.py": "x = 1\n"})
    (repo / os.fsdecode(b"caf\xe9.py")).write_text("y = 2\n")
    proc = cli("materialize", "--target", repo, "--select", "core/file_state", cwd=repo)
    assert proc.returncode == 0, describe(proc)
    assert "Logging error" not in proc.stderr and "Traceback" not in proc.stderr, describe(proc)
    [log] = (repo / ".codeintel" / "logs").iterdir()
    # The record reaches the log file, its undecodable byte escaped.
    assert "caf\\udce9.py" in log.read_text(encoding="utf-8"), log.read_text()


def test_tree_without_python_files_says_so(tmp_path):
    repo = make_git_repo(tmp_path / "docs", {"README.md": "# docs\n"})
    proc = cli("materialize", "--target", repo, "--select", "core/file_state", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert f"no Python files found under {repo}" in proc.stdout.splitlines(), describe(proc)


# ---- query ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sql", ["", "-- nothing"])
def test_query_without_a_statement_is_one_line(warehouse, sql):
    proc = cli("query", "--target", warehouse, sql, cwd=warehouse)
    assert one_error_line(proc).startswith("query: no SQL statement given")


def test_query_of_a_missing_warehouse_creates_nothing(tmp_path):
    proc = cli("query", "--target", tmp_path, "SELECT 1", cwd=tmp_path)
    db = tmp_path / ".codeintel" / "codeintel.duckdb"
    assert one_error_line(proc) == f"query: no warehouse at {db}: materialize first"
    assert tree(tmp_path) == set()


def test_query_writes_csv_jsonl_and_parquet_equal_to_the_result(warehouse, tmp_path):
    expected = expected_rows(warehouse)
    assert len(expected) == 4
    proc = cli("query", "--target", warehouse, ROWS_SQL, "--format", "csv", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    con = duckdb.connect()
    (tmp_path / "rows.csv").write_text(proc.stdout)
    assert con.sql(f"SELECT * FROM read_csv('{tmp_path / 'rows.csv'}')").to_arrow_table() \
        .to_pylist() == expected
    proc = cli("query", "--target", warehouse, ROWS_SQL, "--format", "jsonl",
               "--output", tmp_path / "rows.jsonl", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "", describe(proc)
    lines = (tmp_path / "rows.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == expected
    proc = cli("query", "--target", warehouse, ROWS_SQL, "--format", "parquet",
               "--output", tmp_path / "rows.parquet", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert pq.read_table(tmp_path / "rows.parquet").to_pylist() == expected
    assert tree(tmp_path) == {"rows.csv", "rows.jsonl", "rows.parquet"}  # no .part left


def test_query_limit_and_the_table_says_what_it_left_out(warehouse, tmp_path):
    expected = expected_rows(warehouse)
    proc = cli("query", "--target", warehouse, ROWS_SQL, "--format", "jsonl", "--limit", 2,
               cwd=tmp_path)
    assert [json.loads(line) for line in proc.stdout.splitlines()] == expected[:2]
    proc = cli("query", "--target", warehouse, "SELECT range AS n FROM range(25)", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert "│    19 │" in proc.stdout and "│    20 │" not in proc.stdout, describe(proc)
    assert proc.stderr.splitlines() == [
        ("25 rows, the first 20 shown: --limit N shows more, --format csv|jsonl|parquet "
         "--output FILE writes them all")]
    proc = cli("query", "--target", warehouse, "SELECT range AS n FROM range(25)",
               "--limit", 25, cwd=tmp_path)
    assert "│    24 │" in proc.stdout and proc.stderr == "", describe(proc)
    proc = cli("query", "--target", warehouse, ROWS_SQL, "--format", "parquet", cwd=tmp_path)
    assert one_error_line(proc) == "query: --format parquet writes a file: give --output FILE"


def test_query_timeout_interrupts_a_slow_query(warehouse, tmp_path):
    started = time.monotonic()
    proc = cli("query", "--target", warehouse, SLOW_SQL, "--timeout", 1, "--format", "csv",
               "--output", tmp_path / "slow.csv", cwd=tmp_path)
    assert time.monotonic() - started < STOP_BOUND_S
    assert one_error_line(proc) == "query: query exceeded 1 s and was interrupted"
    assert tree(tmp_path) == set()  # no half-written file


def test_fleet_query_has_the_same_output_and_bound(tmp_path):
    repo = make_git_repo(tmp_path / "repo", FILES)
    home = tmp_path / "fleet"
    proc = cli("materialize", "--fleet", "--fleet-home", home, "--target", repo,
               "--select", "core/file_state", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    proc = cli("query", "--fleet-home", home, "SELECT rel_path FROM core.file_state "
               "ORDER BY rel_path", "--format", "jsonl", "--limit", 3, cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert [json.loads(line)["rel_path"] for line in proc.stdout.splitlines()] == \
        ["pkg/__init__.py", "pkg/a.py", "pkg/b.py"]
    proc = cli("query", "--fleet-home", home, SLOW_SQL, "--timeout", 1, cwd=tmp_path)
    assert one_error_line(proc) == "query: query exceeded 1 s and was interrupted"


def test_query_into_a_pipe_closed_early_is_quiet(warehouse, tmp_path):
    # `query ... | head -2`: the reader leaves early, which is no error of the query.
    with subprocess.Popen([str(CODEINTEL), "query", "--target", str(warehouse),
                           "SELECT range FROM range(10000000)", "--format", "csv"],
                          cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert [proc.stdout.readline() for _ in range(2)] == ['"range"\n', "0\n"]
        proc.stdout.close()
        assert proc.wait(timeout=CMD_TIMEOUT_S) == 0
        assert proc.stderr.read() == ""
