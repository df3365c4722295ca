"""Tests for codeintel_assets.extract.parallel.run_extractor (inline and process-pool modes).

Extractors used in pool mode are module-level functions: the forkserver workers unpickle them by
reference (`codeintel_assets_tests.test_parallel.<name>`).
"""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pytest

from codeintel_assets.extract.parallel import (
    INLINE_BELOW,
    ExtractResult,
    FileError,
    FileJob,
    run_extractor,
)

SCHEMAS = {
    "t": pa.schema([pa.field("rel_path", pa.string()), pa.field("n", pa.int64())]),
    "u": pa.schema([pa.field("rel_path", pa.string()), pa.field("tag", pa.string())]),
}


def make_jobs(n: int, special: dict[int, str] | None = None) -> list[FileJob]:
    """`n` jobs named f{i}.py, with some indexes renamed via `special` (index -> rel_path)."""
    special = special or {}
    return [FileJob(repo="acme/widgets", commit="c" * 40,
                    rel_path=special.get(i, f"f{i}.py"), abs_path=f"/nowhere/{i}")
            for i in range(n)]


# ---- module-level extractors (picklable by reference) -------------------------------------


def rows_for(job: FileJob) -> dict[str, list[dict]]:
    """Two rows in "t" and, for every third file, one row in "u"."""
    idx = sum(map(ord, job.rel_path))
    out = {"t": [{"rel_path": job.rel_path, "n": 0}, {"rel_path": job.rel_path, "n": idx}]}
    if idx % 3 == 0:
        out["u"] = [{"rel_path": job.rel_path, "tag": f"tag-{idx}"}]
    return out


def raising_extractor(job: FileJob) -> dict[str, list[dict]]:
    if job.rel_path == "bad.py":
        raise ValueError("cannot parse bad.py")
    return rows_for(job)


def crashing_extractor(job: FileJob) -> dict[str, list[dict]]:
    if job.rel_path == "crash.py":
        os._exit(1)  # the worker dies like on a segfault: no exception, no cleanup
    # A little work per file so the crash happens while other files are still queued.
    time.sleep(0.005)
    return rows_for(job)


# ---- helpers ---------------------------------------------------------------------------------


def row_set(table: pa.Table) -> list[tuple]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


def paths_in(result: ExtractResult, name: str = "t") -> set[str]:
    return set(result.tables[name].column("rel_path").to_pylist())


def expected_paths(jobs: list[FileJob], *excluded: str) -> set[str]:
    return {j.rel_path for j in jobs} - set(excluded)


# ---- tests -----------------------------------------------------------------------------------


def test_inline_exception_becomes_file_error_and_keeps_other_rows():
    jobs = make_jobs(10, {4: "bad.py"})
    assert len(jobs) < INLINE_BELOW
    result = run_extractor(raising_extractor, jobs, SCHEMAS, workers=2, chunk_size=3)

    assert result.errors == [FileError("bad.py", "ValueError: cannot parse bad.py")]
    assert paths_in(result) == expected_paths(jobs, "bad.py")
    assert result.tables["t"].num_rows == 2 * 9
    assert result.files == 10
    assert result.tables["t"].schema == SCHEMAS["t"]
    assert result.tables["u"].schema == SCHEMAS["u"]


def test_pool_exception_becomes_file_error_and_keeps_other_rows():
    jobs = make_jobs(INLINE_BELOW + 12, {17: "bad.py"})
    result = run_extractor(raising_extractor, jobs, SCHEMAS, workers=2, chunk_size=8)

    assert result.errors == [FileError("bad.py", "ValueError: cannot parse bad.py")]
    assert paths_in(result) == expected_paths(jobs, "bad.py")
    assert result.tables["t"].num_rows == 2 * (len(jobs) - 1)
    assert result.files == len(jobs)
    assert result.tables["t"].schema == SCHEMAS["t"]


def test_pool_worker_crash_reports_the_crashing_file():
    jobs = make_jobs(60, {30: "crash.py"})
    result = run_extractor(crashing_extractor, jobs, SCHEMAS, workers=2, chunk_size=16)

    crash_errors = [e for e in result.errors if e.rel_path == "crash.py"]
    assert len(crash_errors) == 1
    assert "crash" in crash_errors[0].error
    assert "crash.py" not in paths_in(result)
    # Every file is accounted for exactly once: rows or an error, never both, never neither.
    errored = {e.rel_path for e in result.errors}
    assert len(errored) == len(result.errors)
    assert not errored & paths_in(result)
    assert errored | paths_in(result) == expected_paths(jobs)


def test_pool_worker_crash_loses_only_the_crashing_file():
    # crash.py first: the crash breaks the pool early, so most files are retried singly and the
    # retry pool is broken again by crash.py while the other single-file tasks are queued.
    jobs = make_jobs(60, {0: "crash.py"})
    result = run_extractor(crashing_extractor, jobs, SCHEMAS, workers=2, chunk_size=16)

    assert [e.rel_path for e in result.errors] == ["crash.py"]
    assert paths_in(result) == expected_paths(jobs, "crash.py")
    assert result.tables["t"].num_rows == 2 * 59


def test_inline_and_pool_give_the_same_rows():
    jobs = make_jobs(INLINE_BELOW + 5, {3: "bad.py"})
    inline = run_extractor(raising_extractor, jobs, SCHEMAS, workers=1, chunk_size=7)
    pool = run_extractor(raising_extractor, jobs, SCHEMAS, workers=2, chunk_size=7)

    for name in SCHEMAS:
        assert inline.tables[name].schema == pool.tables[name].schema == SCHEMAS[name]
        assert row_set(inline.tables[name]) == row_set(pool.tables[name])
        assert inline.tables[name].num_rows > 0
    assert sorted(inline.errors, key=repr) == sorted(pool.errors, key=repr)
    assert inline.rows() == pool.rows()
    assert inline.files == pool.files == len(jobs)


def test_empty_jobs_give_empty_tables_with_the_requested_schemas():
    calls: list[tuple[int, int]] = []
    result = run_extractor(rows_for, [], SCHEMAS, workers=2,
                           progress=lambda done, total, _s: calls.append((done, total)))

    assert set(result.tables) == set(SCHEMAS)
    for name, schema in SCHEMAS.items():
        assert result.tables[name].num_rows == 0
        assert result.tables[name].schema == schema
    assert result.errors == []
    assert result.files == 0
    assert result.rows() == 0
    assert calls == []


def test_table_without_rows_is_empty_with_its_schema():
    # "u" only gets rows for some files; with a single job that yields none it must still exist.
    jobs = [j for j in make_jobs(30) if sum(map(ord, j.rel_path)) % 3 != 0][:1]
    result = run_extractor(rows_for, jobs, SCHEMAS, workers=1)
    assert result.tables["u"].num_rows == 0
    assert result.tables["u"].schema == SCHEMAS["u"]
    assert result.tables["t"].num_rows == 2


@pytest.mark.parametrize("n_jobs,workers", [(10, 2), (INLINE_BELOW + 3, 2)],
                         ids=["inline", "pool"])
def test_progress_reaches_total(n_jobs, workers):
    calls: list[tuple[int, int, float]] = []
    jobs = make_jobs(n_jobs, {1: "bad.py"})
    run_extractor(raising_extractor, jobs, SCHEMAS, workers=workers, chunk_size=4,
                  progress=lambda done, total, s: calls.append((done, total, s)))

    assert calls, "progress was never called"
    assert calls[-1][:2] == (n_jobs, n_jobs)
    dones = [c[0] for c in calls]
    assert dones == sorted(dones)
    assert all(total == n_jobs for _, total, _ in calls)
    assert all(s >= 0 for *_, s in calls)


def test_progress_reaches_total_after_worker_crash():
    calls: list[tuple[int, int]] = []
    jobs = make_jobs(60, {59: "crash.py"})
    run_extractor(crashing_extractor, jobs, SCHEMAS, workers=2, chunk_size=16,
                  progress=lambda done, total, _s: calls.append((done, total)))
    assert calls[-1] == (60, 60)


def surrogate_extractor(job: FileJob) -> dict[str, list[dict]]:
    rows = [{"path": job.rel_path, "key": "ok", "n": 1, "text": "fine"}]
    if job.rel_path == "bad.py":
        rows += [{"path": job.rel_path, "key": "text", "n": 2, "text": "bad \ud800"},
                 {"path": job.rel_path, "key": "lone \udfff", "n": 3, "text": "x"},
                 {"path": job.rel_path, "key": "big", "n": 2**40, "text": "y"}]
    return {"t": rows}


@pytest.mark.parametrize("n_jobs, workers", [(10, 1), (60, 2)])
def test_a_value_arrow_cannot_store_loses_only_that_value_or_row(n_jobs, workers):
    schemas = {"t": pa.schema([("path", pa.string()), ("key", pa.string()), ("n", pa.int32()),
                               ("text", pa.string())])}
    jobs = make_jobs(n_jobs, {3: "bad.py"})
    result = run_extractor(surrogate_extractor, jobs, schemas, workers=workers,
                           keys={"t": ("path", "key")})
    assert result.errors == []
    rows = {(r["path"], r["key"]): r for r in result.tables["t"].to_pylist()}
    assert len(rows) == n_jobs + 2  # one row per file, plus two of bad.py's four
    assert rows[("bad.py", "ok")]["text"] == "fine"
    assert rows[("bad.py", "text")] == {"path": "bad.py", "key": "text", "n": 2, "text": None}
    assert rows[("bad.py", "big")]["n"] is None and rows[("bad.py", "big")]["text"] == "y"
    lost = sorted((d.rel_path, d.column, d.action) for d in result.dropped)
    assert lost == [("bad.py", "key", "row"), ("bad.py", "n", "value"),
                    ("bad.py", "text", "value")]
