"""Seconds from a commit to every table current, with `dagster dev` running (issue 19).

    python -m codeintel_assets.benchmark_devpush                 # this project's own checkout
    python -m codeintel_assets.benchmark_devpush --source /path/to/repo --json out.json

What it does, the way a user would: clones `--source` (its HEAD) into a work folder, starts
`dagster dev` on the project's workspace.yaml and dagster.yaml (copied there, so the runs and
logs stay in the work folder) with the clone as CODEINTEL_TARGET and the sensors on, and waits
until the git-HEAD sensor and automation have materialized every asset (the initial build;
tests are not run: `target.tests_on_push` is off). Then two one-file commits, each appending a
function to one Python file:

- `hook`: with the post-commit hook installed (`install_hook`), so the commit launches the
  ingestion run at once;
- `sensor`: without it, so the git-HEAD sensor finds the commit on its next tick
  (`--poll-s`, default the sensors' own 30 s).

A commit is current when its ingestion run has finished, no run is queued or in progress and
every asset's Dagster stale status is FRESH. Its seconds are counted from just before `git
commit` to the end of the last run that started after it, and split into the wait before the
first run starts, each run's wall time and its slowest steps. Machine load (os.getloadavg) is
recorded at each phase; other work on the machine inflates every number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from codeintel_assets.devserver import DagsterDev, running_dagster_dev
from codeintel_assets.launch import COMMIT_TAG, POLL_ENV
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets.trigger import install_hook

PROJECT = Path(__file__).resolve().parent.parent  # holds workspace.yaml and dagster.yaml
EDIT = "\n\ndef _codeintel_devpush_{n}(value):\n    return value + {n}\n"

_ASSETS_Q = "{ assetNodes { assetKey { path } staleStatus } }"
_RUNS_Q = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
  ... on Runs { results { runId jobName status startTime endTime tags { key value }
                          stepStats { stepKey startTime endTime } } } } }"""
_LIVE = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}


@dataclass(frozen=True)
class RunTime:
    """One Dagster run after the commit: job, status, seconds from the commit to its start and
    end, and its slowest steps as (step key, seconds)."""

    job: str
    status: str
    started_s: float
    ended_s: float
    slowest_steps: list[tuple[str, float]]


@dataclass
class Phase:
    """One measured commit (`hook`, `sensor`) or the initial build (`initial`)."""

    name: str
    commit: str
    edited: str
    current_s: float | None = None  # None: not current within the timeout
    runs: list[RunTime] = field(default_factory=list)
    stale_left: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _git(root: Path, *args: str) -> str:
    return ToolRunner().run(["git", "-C", str(root), *args]).stdout.strip()


def _edit_target(root: Path) -> str:
    """A Python file in the middle of the tracked ones (the benchmark's own rule: not the first
    or last package, and not a test)."""
    files = [p for p in _git(root, "ls-files", "*.py").splitlines()
             if "test" not in p and not p.endswith("__init__.py")]
    if not files:
        raise SystemExit(f"{root}: no tracked Python file to edit")
    return files[len(files) // 2]


def _runs_since(dev: DagsterDev, since: float) -> list[dict]:
    return dev.gql(_RUNS_Q, {"filter": {"createdAfter": since}})["runsOrError"]["results"]


def _stale(dev: DagsterDev) -> list[str]:
    return sorted("/".join(n["assetKey"]["path"]) for n in dev.gql(_ASSETS_Q)["assetNodes"]
                  if n["staleStatus"] != "FRESH")


def _wait_current(dev: DagsterDev, phase: Phase, since: float, timeout_s: float,
                  settle_s: float) -> None:
    """Poll until the ingestion run of `phase.commit` is done, nothing runs and nothing is
    stale for `settle_s` seconds (automation launches the next run only on its next tick)."""
    deadline, quiet_since = time.time() + timeout_s, None
    while time.time() < deadline:
        runs = _runs_since(dev, since)
        ingested = any(r["status"] == "SUCCESS" and {t["key"]: t["value"] for t in r["tags"]}
                       .get(COMMIT_TAG) == phase.commit for r in runs)
        busy = any(r["status"] in _LIVE for r in runs)
        stale = _stale(dev) if ingested and not busy else ["(waiting)"]
        if ingested and not busy and not stale:
            quiet_since = quiet_since or time.time()
            if time.time() - quiet_since >= settle_s:
                phase.runs = [_run_time(r, since) for r in reversed(runs)]
                phase.current_s = max((r.ended_s for r in phase.runs), default=None)
                return
        else:
            quiet_since = None
        phase.stale_left = stale
        time.sleep(2)


def _run_time(run: dict, since: float) -> RunTime:
    steps = sorted(((s["stepKey"], round(s["endTime"] - s["startTime"], 2))
                    for s in run["stepStats"] if s["startTime"] and s["endTime"]),
                   key=lambda item: -item[1])
    return RunTime(run["jobName"], run["status"], round((run["startTime"] or since) - since, 2),
                   round((run["endTime"] or since) - since, 2), steps[:5])


def _commit(root: Path, rel_path: str, n: int) -> str:
    with open(root / rel_path, "a") as fh:
        fh.write(EDIT.format(n=n))
    _git(root, "commit", "-q", "-am", f"devpush benchmark edit {n}")
    return _git(root, "rev-parse", "HEAD")


def measure(source: Path, work: Path, poll_s: int, timeout_s: float) -> list[Phase]:
    """Clone `source` into `work`, run `dagster dev` there, and measure the initial build and a
    hook and a sensor commit; returns the phases in that order."""
    repo, home = work / "repo", work / "project"
    ToolRunner().run(["git", "clone", "-q", str(source), str(repo)])
    for name in ("user.name", "user.email"):
        _git(repo, "config", name, "codeintel-devpush")
    home.mkdir()
    for name in ("workspace.yaml", "dagster.yaml"):
        shutil.copy(PROJECT / name, home / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DAGSTER_", "CODEINTEL_"))}
    env.update(CODEINTEL_TARGET=str(repo), **{POLL_ENV: str(poll_s)})
    dagster = str(Path(sys.executable).with_name("dagster"))
    edited = _edit_target(repo)
    phases = []
    # The sensor may launch the first run before every code location reports LOADED.
    initial = Phase("initial", _git(repo, "rev-parse", "HEAD"), "", load_before=os.getloadavg())
    start = time.time()
    with running_dagster_dev(home, env, work / "dagster_dev.log", (dagster, "dev")) as dev:
        _wait_current(dev, initial, start, timeout_s, settle_s=2 * poll_s + 5)
        phases.append(initial)
        print(_line(initial), flush=True)
        for n, name in enumerate(("hook", "sensor"), 1):
            hook = install_hook(repo, dev.url) if name == "hook" else None
            load, since = os.getloadavg(), time.time()
            phase = Phase(name, _commit(repo, edited, n), edited, load_before=load)
            if hook:
                hook.unlink()
            _wait_current(dev, phase, since, timeout_s, settle_s=2 * poll_s + 5)
            phases.append(phase)
            print(_line(phase), flush=True)
    return phases


def _line(phase: Phase) -> str:
    if phase.current_s is None:
        return f"{phase.name}: not current; stale: {', '.join(phase.stale_left[:8])}"
    runs = "; ".join(f"{r.job} {r.started_s:.1f}-{r.ended_s:.1f} s "
                     f"({', '.join(f'{k} {s:.1f}' for k, s in r.slowest_steps[:3])})"
                     for r in phase.runs)
    return (f"{phase.name}: every table current {phase.current_s:.1f} s after the commit "
            f"(load {phase.load_before[0]:.1f}); runs: {runs}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeintel_assets.benchmark_devpush",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=PROJECT,
                        help="Git repository to clone and follow (default: this checkout)")
    parser.add_argument("--poll-s", type=int, default=30,
                        help="the sensors' interval, $CODEINTEL_POLL_S (default 30)")
    parser.add_argument("--timeout-s", type=float, default=3600,
                        help="give up on a phase after this many seconds")
    parser.add_argument("--work", type=Path, help="work folder (default: a temp dir, removed)")
    parser.add_argument("--json", type=Path, help="also write the phases here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="codeintel-devpush-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        phases = measure(args.source.resolve(), work, args.poll_s, args.timeout_s)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in phases], indent=1))
    return 0 if all(p.current_s is not None for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
