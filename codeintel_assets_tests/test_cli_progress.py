"""What `codeintel-assets materialize` shows while it runs: plain progress lines in a pipe,
Dagster's events in a log file (and on the terminal with --verbose), heartbeats of tool steps,
the same lines in the Dagster run log at INFO, and the live view on a terminal.

The CLI runs as a subprocess of this virtualenv against a temp Git repository (`sample_repo`);
the run-log test is a real in-process Dagster run.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from rich.console import Console

from codeintel_assets import progress, run
from codeintel_assets.storage.views import VIEWS
from codeintel_assets.terminal import LiveView, PlainView, view
from codeintel_assets_tests.test_cli_e2e import CMD_TIMEOUT_S, clean_env, describe

ANSI = re.compile(r"\x1b\[")
STATIC_TOOLS_BUT_RUFF = ["--skip-tool", "pyright", "--skip-tool", "pyrefly",
                         "--skip-tool", "scip", "--skip-tool", "tests"]


def materialize_cli(*args, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`python -m codeintel_assets materialize ARGS` with stdout and stderr piped."""
    return subprocess.run([sys.executable, "-m", "codeintel_assets", "materialize",
                           *map(str, args)], cwd=cwd, env=clean_env(**env),
                          capture_output=True, text=True, timeout=CMD_TIMEOUT_S)


def log_file_of(proc: subprocess.CompletedProcess) -> Path:
    match = re.search(r"^Dagster event log: (.+)$", proc.stderr, re.M)
    assert match, describe(proc)
    return Path(match[1])


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    d = tmp_path / "cwd"
    d.mkdir()
    return d


def test_pipe_gets_plain_lines_and_the_log_file_gets_dagster_events(sample_repo, tmp_path,
                                                                     cwd):
    db = tmp_path / "db" / "x.duckdb"
    proc = materialize_cli("--target", sample_repo, "--db", db, *STATIC_TOOLS_BUT_RUFF, cwd=cwd)
    assert proc.returncode == 0, describe(proc)
    err, lines = proc.stderr, proc.stderr.splitlines()

    for info in run.steps():
        step = info["step"]
        start = lines.index(f"start {step}")
        (done,) = [i for i, ln in enumerate(lines) if ln.startswith(f"done {step} ")]
        assert start < done, err
        # a view holds no rows of its own: its step's line has none
        rows = "" if set(info["tables"]) <= set(VIEWS) else r" rows: \S+=\d+(, \S+=\d+)*"
        assert re.fullmatch(rf"done {step} \d+\.\ds{rows}", lines[done]), lines[done]
    done = {ln.split()[1]: ln for ln in lines if ln.startswith("done ")}
    assert "core.file_state=11," in done["repo_scan"]
    assert "core.goids=18" in done["goids"]
    # A parsing step's progress line sits between its start and done lines.
    (parsed,) = [i for i, ln in enumerate(lines)
                 if re.fullmatch(r"repo_scan 11/11 files \(\d+ files/s, \d+\.\ds\)", ln)]
    assert lines.index("start repo_scan") < parsed < lines.index(done["repo_scan"])
    # The one tool that ran reports its start and end inside its step.
    assert lines.index("tool ruff started") > lines.index("start typing_ingest")
    assert any(re.fullmatch(r"tool ruff finished after \d+\.\ds", ln) for ln in lines), err
    assert re.search(r"^run finished after \d+\.\ds; checks: \d+ passed, \d+ failed$", err, re.M)
    # A failed check says what it measured and when it would pass (without scip-python no
    # GOID has a SCIP symbol).
    assert re.search(r"^check failed \(WARN\): core\.goid_crosswalk goids_have_scip_symbols: "
                     r"0 of \d+ GOIDs with a SCIP symbol \(0\.0%\) \(passes with at least 98%",
                     err, re.M), err

    # Plain text only, and none of Dagster's own event lines on the terminal.
    assert not ANSI.search(err) and not ANSI.search(proc.stdout)
    for dagster_line in ("DEBUG", "STEP_START", "ASSET_MATERIALIZATION", "__ASSET_JOB"):
        assert dagster_line not in err, err
    # stdout keeps only the summary.
    assert proc.stdout.startswith("repo acme/widgets -> ")
    assert "start repo_scan" not in proc.stdout

    log = log_file_of(proc)
    assert log.parent == db.parent / "logs" and log.name.startswith("materialize-")
    text = log.read_text()
    for event in ("RUN_START", "STEP_START", "ASSET_MATERIALIZATION", "STEP_SUCCESS",
                  "RUN_SUCCESS", " - DEBUG - ", " - INFO - ", "tool ruff started"):
        assert event in text, event


def test_verbose_prints_dagster_events_and_honours_codeintel_db(sample_repo, tmp_path, cwd):
    # The database named only by $CODEINTEL_DB: the log goes next to it, and the summary
    # reads it too (it used to read <target>/.codeintel/ instead).
    db = tmp_path / "envdb" / "e.duckdb"
    proc = materialize_cli("--target", sample_repo, "--select", "core/file_state", "--verbose",
                           cwd=cwd, CODEINTEL_DB=str(db))
    assert proc.returncode == 0, describe(proc)
    assert 'Started execution of step "repo_scan"' in proc.stderr
    assert " - DEBUG - " in proc.stderr and "STEP_SUCCESS" in proc.stderr
    assert "start repo_scan" not in proc.stderr.splitlines()  # no progress view on top
    assert proc.stdout.startswith(f"repo acme/widgets -> {db}\n"), proc.stdout
    assert re.search(r"core\.file_state\s+11$", proc.stdout, re.M)
    log = log_file_of(proc)
    assert log.parent == db.parent / "logs"
    assert 'Started execution of step "repo_scan"' in log.read_text()


def test_failed_step_is_reported_and_exits_1(sample_repo, tmp_path, cwd):
    # core.ast_nodes alone on a new database: core.file_state, which it is built from as
    # stored when the run does not write it, is missing.
    proc = materialize_cli("--target", sample_repo, "--db", tmp_path / "f.duckdb",
                           "--select", "core/ast_nodes", cwd=cwd)
    assert proc.returncode == 1, describe(proc)
    lines = proc.stderr.splitlines()
    assert "start repo_scan" in lines
    (failed,) = [ln for ln in lines if ln.startswith("failed repo_scan ")]
    assert "UpstreamMissingError: core.file_state has not been materialized" in failed
    assert any(ln.startswith("run failed in steps: repo_scan (details in ") for ln in lines)
    assert proc.stdout == ""
    assert "STEP_FAILURE" in log_file_of(proc).read_text()


def test_progress_reaches_the_dagster_run_log_at_info(sample_repo, tmp_path):
    """A run launched from the UI has no CLI: its run log shows the same lines at INFO."""
    instance = dg.DagsterInstance.ephemeral()
    result = run.materialize("core/file_state,core/ast_nodes,analytics/typedness",
                             target=str(sample_repo), db=str(tmp_path / "r.duckdb"),
                             tools=["ruff"], instance=instance)
    info = [e.user_message for e in instance.all_logs(result.run_id)
            if e.dagster_event is None and e.level == logging.INFO]
    assert any(re.fullmatch(r"repo_scan 11/11 files \(\d+ files/s, \d+\.\ds\)", m)
               for m in info), info
    assert "tool ruff started" in info
    assert any(re.fullmatch(r"tool ruff finished after \d+\.\ds", m) for m in info), info


# ---- progress, without Dagster ---------------------------------------------------------------


class ListLog:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)


def heartbeat_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("heartbeat-")]


def test_heartbeat_beats_while_the_block_runs_and_stops_after():
    log, events = ListLog(), []
    with progress.listening(events.append):
        with progress.heartbeat(log, "typing_ingest", "sleepy", every_s=0.05):
            assert len(heartbeat_threads()) == 1
            time.sleep(0.3)
        assert heartbeat_threads() == []
        after = len(log.lines)
        time.sleep(0.2)
    assert len(log.lines) == after  # nothing beats once the block is over
    assert log.lines[0] == "tool sleepy started"
    assert "tool sleepy running 0s" in log.lines[1:-1]
    assert re.fullmatch(r"tool sleepy finished after 0\.\ds", log.lines[-1])
    states = [e.state for e in events]
    assert states[0] == "started" and states[-1] == "finished"
    assert states.count("running") >= 2 and len(events) == len(log.lines)
    assert {e.step for e in events} == {"typing_ingest"}


def test_heartbeat_of_a_failing_tool_says_failed_and_reraises():
    log = ListLog()
    with pytest.raises(RuntimeError, match="boom"):
        with progress.heartbeat(log, "scip_ingest", "scip", every_s=10):
            raise RuntimeError("boom")
    assert heartbeat_threads() == []
    assert log.lines[0] == "tool scip started"
    assert re.fullmatch(r"tool scip failed after 0\.\ds", log.lines[-1])


def test_files_progress_logs_every_interval_and_the_last_update_but_emits_all():
    log, events = ListLog(), []
    report = progress.files_progress(log, "cst_extract", "cst_extract", every_s=5.0)
    with progress.listening(events.append):
        for done, elapsed in ((16, 1.0), (32, 4.9), (48, 5.0), (64, 9.0), (80, 10.5), (90, 11.0)):
            report(done, 90, elapsed)
    assert log.lines == ["cst_extract 48/90 files (10 files/s, 5.0s)",
                         "cst_extract 80/90 files (8 files/s, 10.5s)",
                         "cst_extract 90/90 files (8 files/s, 11.0s)"]
    assert [e.done for e in events] == [16, 32, 48, 64, 80, 90]
    assert [e.due for e in events] == [False, False, True, False, True, True]
    report(1, 90, 0.5)  # no listener installed: logs as before, emits to nobody
    assert len(events) == 6


# ---- the terminal views ----------------------------------------------------------------------


def test_views_plain_off_a_terminal_live_on_one():
    out = io.StringIO()
    assert isinstance(view(out), PlainView)
    with view(out) as plain:
        plain(progress.StepStarted("ast_extract"))
        plain(progress.FilesDone("ast_extract", "ast_extract", 3, 6, 1.0, due=False))
        plain(progress.StepFinished("ast_extract", 1.3, {"core.ast_nodes": 67}))
    assert out.getvalue() == "start ast_extract\ndone ast_extract 1.3s rows: core.ast_nodes=67\n"

    # A long tool run (every 5 s for 3 minutes) gets a heartbeat line a minute, not 36.
    out = io.StringIO()
    with view(out) as plain:
        plain(progress.ToolStatus("scip_ingest", "scip", "started", 0.0))
        for tick in range(1, 37):
            plain(progress.ToolStatus("scip_ingest", "scip", "running", 5.0 * tick))
        plain(progress.ToolStatus("scip_ingest", "scip", "finished", 181.0))
    assert out.getvalue().splitlines() == [
        "tool scip started", "tool scip running 60s", "tool scip running 120s",
        "tool scip running 180s", "tool scip finished after 181.0s"]

    tty = io.StringIO()
    console = Console(file=tty, force_terminal=True, width=120)
    with LiveView(console) as live:
        live(progress.StepStarted("ast_extract"))
        live(progress.FilesDone("ast_extract", "ast_extract", 3, 6, 1.0, due=False))
        live(progress.ToolStatus("ast_extract", "ruff", "started", 0.0))
        time.sleep(0.3)  # rich redraws the bars at 10 Hz
        live(progress.ToolStatus("ast_extract", "ruff", "running", 5.0))
        live(progress.ToolStatus("ast_extract", "ruff", "finished", 6.0))
        live(progress.StepFinished("ast_extract", 7.0, {"core.ast_nodes": 67}))
    shown = tty.getvalue()
    assert ANSI.search(shown)  # a terminal: cursor moves and colours
    assert "3/6 files · 3 files/s" in shown and "ast_extract · ruff" in shown
    for line in ("start ast_extract", "tool ruff started", "tool ruff finished after 6.0s",
                 "done ast_extract 7.0s rows: core.ast_nodes=67"):
        assert line in shown, line
    assert "tool ruff running" not in shown  # the elapsed time on the row is the heartbeat
