"""Crash isolation: a file that crashes a tool costs that file, not the repository.

The bisection is tested on a scripted tool (exact run counts, the combination case, the
give-up rule) and end to end on the real ruff 0.17.6, which aborts with a stack overflow on a
2,000-term expression whenever it checks that file with others.
"""

from __future__ import annotations

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.defs.resources import ToolService
from codeintel_assets.tools import ruff
from codeintel_assets.tools.isolate import isolate
from codeintel_assets.tools.runner import (
    TargetCausedError,
    ToolCrashError,
    ToolExecutionError,
    ToolRunner,
)
from codeintel_assets.tools.service import CRASHED
from codeintel_assets_tests.conftest import make_git_repo, write_files

DEEP = "x = " + "+".join(["1"] * 2000) + "\n"


def scripted(crash_alone=(), crash_together=(), error=ToolCrashError):
    """A fake tool: one row per file; crashes when a file of `crash_alone` is checked, or a
    file of `crash_together` is checked with any other file."""
    calls = []

    def run(files: list[str]) -> list[dict]:
        calls.append(list(files))
        if any(f in crash_alone for f in files) or (
                len(files) > 1 and any(f in crash_together for f in files)):
            raise error(["tool", *files], 134, "fatal runtime error: stack overflow", "tool failed")
        return [{"rel_path": f} for f in files]
    return run, calls


def first_crash(run, files):
    with pytest.raises(ToolExecutionError) as info:
        run(files)
    return info.value


@pytest.mark.parametrize("bad", [0, 5, 15])
def test_one_bad_file_is_found_and_the_rest_kept(bad):
    files = [f"f{i}.py" for i in range(16)]
    run, calls = scripted(crash_alone={files[bad]})
    found = isolate("t", files, run, first_crash(run, files))
    assert [c.rel_path for c in found.culprits] == [files[bad]]
    assert not found.culprits[0].rows_kept and "exit code 134" in found.culprits[0].reason
    assert sorted(r["rel_path"] for r in found.rows) == sorted(set(files) - {files[bad]})
    assert found.runs == 8  # two halves per level, log2(16) levels


def test_a_file_that_crashes_only_with_others_keeps_its_rows():
    files = [f"f{i}.py" for i in range(10)]
    run, _ = scripted(crash_together={"f7.py"})
    found = isolate("t", files, run, first_crash(run, files))
    assert [(c.rel_path, c.rows_kept) for c in found.culprits] == [("f7.py", True)]
    assert sorted(r["rel_path"] for r in found.rows) == sorted(files)


def test_a_tool_that_crashes_on_everything_is_ours_and_raises():
    files = [f"f{i}.py" for i in range(40)]
    run, calls = scripted(crash_alone=set(files))
    crash = first_crash(run, files)
    with pytest.raises(ToolExecutionError) as info:
        isolate("t", files, run, crash, max_culprits=3)
    # Gives up after max_culprits + 1 culprits: about two runs per level plus two per culprit.
    assert info.value is crash and len(calls) <= 1 + 2 * 6 + 2 * 4


def test_the_targets_config_error_is_not_bisected():
    run, calls = scripted(crash_alone={"a.py"}, error=TargetCausedError)
    with pytest.raises(TargetCausedError):
        isolate("t", ["a.py", "b.py"], run, ToolCrashError(["t"], 1, "", "x"))
    assert len(calls) == 1


def test_real_ruff_stack_overflow_costs_one_file(tmp_path):
    root = tmp_path / "r"
    write_files(root, {"deep.py": DEEP, "a.py": "import os\n", "b.py": "import sys\n",
                       "c.py": "x = 1\n"})
    files = ["a.py", "b.py", "deep.py", "c.py"]
    with pytest.raises(ToolExecutionError) as info:  # what happened before isolation
        ToolRunner().run([ToolService().ruff_path, *ruff.argv_for(files)], cwd=root,
                         ok_codes=(0, 1))
    assert info.value.returncode == -6  # SIGABRT: shells report it as exit code 134
    run = ToolService().ruff_diagnostics(str(root), files)
    assert run.status == CRASHED and not run.completed
    assert [(c.rel_path, c.rows_kept) for c in run.culprits] == [("deep.py", True)]
    assert "deep.py" in run.reason
    assert sorted((r["rel_path"], r["code"]) for r in run.rows) == [
        ("a.py", "F401"), ("b.py", "F401")]


def test_typing_ingest_records_the_culprit_and_keeps_the_run_green(tmp_path):
    repo = make_git_repo(tmp_path / "deep", {"deep.py": DEEP, "a.py": "import os\n",
                                             "b.py": "import sys\n"})
    db = tmp_path / "d.duckdb"
    result = run.materialize("core/file_state,core/ast_nodes,analytics/diagnostics,"
                             "analytics/tool_failures", target=str(repo), db=str(db),
                             tools=["ruff"])
    assert result.success
    with duckdb.connect(str(db), read_only=True) as con:
        failures = con.execute("SELECT tool, rel_path, kind, rows_kept FROM "
                               "analytics.tool_failures").fetchall()
        diagnostics = con.execute("SELECT rel_path, code FROM analytics.diagnostics "
                                  "ORDER BY rel_path").fetchall()
    assert failures == [("ruff", "deep.py", "crash_with_others", True)]
    assert diagnostics == [("a.py", "F401"), ("b.py", "F401")]
    [check] = [e.event_specific_data for e in result.all_events
               if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and e.event_specific_data.asset_check_key.name == "ruff_completed"]
    assert not check.passed and check.metadata["status"].value == "crashed"
    assert [c["rel_path"] for c in check.metadata["culprits"].value] == ["deep.py"]
