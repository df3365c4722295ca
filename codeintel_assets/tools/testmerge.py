"""A test run's effective results: what a full run of the same tree would have given, built
from a selective run (tools/testimpact.py) and the previous run's effective results.

Every run folder holds its effective results in the shapes the two steps read: `report.json`
(a pytest-json-report; a selective run's own report is kept as `report.selected.json`) and
`lines.parquet` (the coverage rows of `coverage_data.coverage_rows`, all measured files under
the root, contexts as a list of node ids). A full run's are its own. For a selective run, with
C = the node ids collected now and E = the ones executed (pytest_plugins/codeintel_select.py):

- report: the new report's collectors (collection was complete) and tests, plus the previous
  report's tests in C - E (deselected, still collected); tests no longer collected are gone;
- lines, per file: a changed Python file (any test that ran a line of it was selected, and its
  line numbers moved) gets the new run's rows only; an unchanged one the full outer join of
  the new rows and the previous ones by line, contexts = (previous contexts restricted to
  C - E) | new contexts, is_executable from the new rows when the file was measured (the
  same file: the same statements), is_covered = covered now or some context left; a file the
  new run did not measure keeps its previous rows only while some context is left (the
  deselected tests that import it would import it again), covered where one is. Rows are
  coverage_rows' lines (statements and excluded lines, covered or not), so a file's rows do
  not depend on which tests ran it.

The merge of the lines runs in DuckDB (Arrow in, Parquet out). No dagster import.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from codeintel_assets.tools import testimpact
from codeintel_assets.tools.coverage_data import coverage_rows
from codeintel_assets.tools.pytest_report import collected, load_report, suite_problem
from codeintel_assets.tools.testimpact import LINES_NAME, Plan
from codeintel_assets.tools.testrun import COMPLETED, NO_TESTS, REPORT_NAME, TestRun

LINES_SCHEMA = pa.schema([("rel_path", pa.string()), ("line", pa.int64()),
                          ("is_executable", pa.bool_()), ("is_covered", pa.bool_()),
                          ("contexts", pa.list_(pa.string()))])
SELECTED_REPORT_NAME = "report.selected.json"  # a selective run's own results
SELECTED_LINES_NAME = "lines.selected.parquet"


def write_lines(rows: Sequence[dict], path: str) -> None:
    """Write coverage_rows' `rows` (contexts as JSON text) as a run's effective lines."""
    table = pa.Table.from_pylist([{"rel_path": r["rel_path"], "line": r["line"],
                                   "is_executable": r["is_executable"],
                                   "is_covered": r["is_covered"],
                                   "contexts": json.loads(r["contexts"])} for r in rows],
                                 schema=LINES_SCHEMA)
    pq.write_table(table, path)


def read_lines(path: str, scanned: set[str] | None = None) -> list[dict]:
    """analytics.coverage_lines rows (without repo/commit) of a run's effective lines, of the
    files in `scanned` when given: contexts as sorted JSON text, hits = context_count = their
    number (coverage_data's shapes)."""
    rows = []
    for r in pq.read_table(path).to_pylist():
        if scanned is None or r["rel_path"] in scanned:
            tests = r["contexts"]
            rows.append({"rel_path": r["rel_path"], "line": r["line"],
                         "is_executable": r["is_executable"], "is_covered": r["is_covered"],
                         "hits": len(tests), "context_count": len(tests),
                         "contexts": json.dumps(tests)})
    return rows


_MERGE = """
WITH p AS (SELECT * FROM prev WHERE NOT list_contains($changed, rel_path)),
kept_contexts AS (
    SELECT rel_path, line, list(id ORDER BY id) AS ctx
    FROM (SELECT rel_path, line, unnest(contexts) AS id FROM p)
    WHERE id IN (SELECT id FROM kept) GROUP BY ALL),
pk AS (SELECT p.rel_path, p.line, p.is_executable, coalesce(k.ctx, []::VARCHAR[]) AS ctx
       FROM p LEFT JOIN kept_contexts k USING (rel_path, line)),
measured AS (SELECT DISTINCT rel_path FROM now),
j AS (
    SELECT coalesce(n.rel_path, pk.rel_path) AS rel_path, coalesce(n.line, pk.line) AS line,
           coalesce(n.is_executable, pk.is_executable) AS is_executable,
           coalesce(n.is_covered, false) AS covered_now,
           list_sort(list_distinct(list_concat(coalesce(pk.ctx, []::VARCHAR[]),
                                               coalesce(n.contexts, []::VARCHAR[])))) AS contexts
    FROM now n FULL OUTER JOIN pk ON n.rel_path = pk.rel_path AND n.line = pk.line),
alive AS (SELECT rel_path FROM j GROUP BY rel_path HAVING max(len(contexts)) > 0)
SELECT rel_path, line, is_executable, covered_now OR len(contexts) > 0 AS is_covered, contexts
FROM j
WHERE rel_path IN (SELECT rel_path FROM measured) OR rel_path IN (SELECT rel_path FROM alive)
ORDER BY rel_path, line
"""


def merge_lines(previous: str, now: str, changed: Iterable[str], kept: Iterable[str],
                out: str) -> int:
    """Write the effective lines of a selective run to `out` (see the module docstring):
    `previous` and `now` are effective-lines files (the previous run's, the selective run's
    own), `changed` the Python rel_paths added, modified or deleted, `kept` the node ids
    collected now and not executed. Returns the row count."""
    with duckdb.connect() as con:
        con.register("prev", pq.read_table(previous, schema=LINES_SCHEMA))
        con.register("now", pq.read_table(now, schema=LINES_SCHEMA))
        con.register("kept", pa.table({"id": pa.array(sorted(set(kept)), pa.string())}))
        merged = con.sql(_MERGE, params={"changed": sorted(set(changed))}).to_arrow_table()
    pq.write_table(merged.cast(LINES_SCHEMA), out)
    return merged.num_rows


def merge_report(previous: str, selected: str, collected: Sequence[str],
                 executed: Iterable[str], out: str) -> None:
    """Write the effective report of a selective run to `out`: the `selected` run's report
    with the `previous` report's tests that were `collected` but not `executed` added, in
    collection order; summary.collected is the number collected. Raises FileNotFoundError
    when a report is missing."""
    now, before = load_report(selected), load_report(previous)
    if now is None or before is None:
        raise FileNotFoundError(selected if now is None else previous)
    ran, now_collected = set(executed), set(collected)
    kept = {t["nodeid"]: t for t in before.get("tests", [])
            if t["nodeid"] in now_collected and t["nodeid"] not in ran}
    order = {nodeid: i for i, nodeid in enumerate(collected)}
    tests = sorted([*now.get("tests", []), *kept.values()],
                   key=lambda t: order.get(t["nodeid"], len(order)))
    summary = {k: v for k, v in now.get("summary", {}).items() if k != "deselected"}
    summary.update(Counter(t.get("outcome", "") for t in tests))
    summary.update(collected=len(collected), total=len(tests))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({**now, "tests": tests, "summary": summary}, fh)
    os.replace(tmp, out)


def effective(done: TestRun, root: str, workdir: str, chosen: Plan,
              scanned: set[str] | None = None) -> TestRun:
    """`done` (the run into `workdir`) with its effective results written: LINES_NAME from its
    coverage data (of the `scanned` files when given: a virtualenv inside the root is measured
    too, and is not parsed for nothing), and for a selective run that reached its end the merges with the previous
    run's results (`chosen.previous`); its status, problem and counts then describe the
    effective report. A selective run that did not reach its end keeps its own partial
    results (the next run is a full one: this one is not healthy). A selective run that
    executed nothing (pytest's exit code 5 after deselecting every test) completed. The
    skeletons of the files it imported join its basis (testimpact.add_skeletons)."""
    rows = coverage_rows(done.coverage_path, root, scanned) if done.coverage_path else []
    finished = _effective(done, root, workdir, chosen, rows)
    imported = pq.read_table(finished.lines_path, columns=["rel_path", "is_covered"]).filter(
        pc.field("is_covered")).column("rel_path").unique().to_pylist()
    testimpact.add_skeletons(workdir, root, imported)
    return finished


def _effective(done: TestRun, root: str, workdir: str, chosen: Plan, rows: list[dict]
               ) -> TestRun:
    lines = os.path.join(workdir, LINES_NAME)
    how = {"test_selection": chosen.mode, "selection_reason": chosen.reason, "lines_path": lines}
    seen = None if chosen.full else testimpact.executed(workdir)
    ended = seen is not None and (done.completed or (done.status == NO_TESTS and seen[0]
                                                     and not seen[1]))
    if not ended or not done.report_path:
        write_lines(rows, lines)
        count = collected(done.report_path) if done.report_path else None
        return replace(done, **how, tests_collected=count,
                       tests_executed=count if chosen.full else None)
    all_ids, ran = seen
    own_lines = os.path.join(workdir, SELECTED_LINES_NAME)
    write_lines(rows, own_lines)
    own_report = os.path.join(workdir, SELECTED_REPORT_NAME)
    os.replace(done.report_path, own_report)
    merge_report(os.path.join(chosen.previous, REPORT_NAME), own_report, all_ids, ran,
                 done.report_path)
    merge_lines(os.path.join(chosen.previous, LINES_NAME), own_lines, chosen.changed,
                set(all_ids) - set(ran), lines)
    return replace(done, **how, status=COMPLETED, reason="",
                   problem=suite_problem(done.report_path, root),
                   tests_collected=len(all_ids), tests_executed=len(ran))
