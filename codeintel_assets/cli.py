"""`codeintel-assets`: materialize the warehouse, list steps, print a summary."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
import warnings
from pathlib import Path

# No dagster below: the CLI's help and `query` start fast.
from codeintel_assets import launch
from codeintel_assets.ask import FORMATS, Output, print_query
from codeintel_assets.tools.registry import TOOL_NAMES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codeintel-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("materialize", help="materialize assets in-process and print a summary")
    run.add_argument("--select", default="*",
                     help="asset selection, as `dagster asset materialize --select` (default *)")
    summary = sub.add_parser("summary", help="rows per table and most complex files")
    ask = sub.add_parser("query", help="run read-only SQL on the warehouse and print a table "
                         "(waits while a materialization writes)")
    # Where the warehouse is, the same for every command that reads or writes it.
    for p in (run, summary, ask):
        p.add_argument("--target", help="repository to index (default: $CODEINTEL_TARGET or cwd)")
        p.add_argument("--db", help="DuckDB file (default: <target>/.codeintel/codeintel.duckdb)")
        p.add_argument("--fleet", action="store_true",
                       help="use the fleet shape: the target's partition in the fleet at "
                       "--fleet-home; `query` then runs on the catalog over every repository "
                       "of the fleet")
        p.add_argument("--fleet-home", metavar="HOME",
                       help="the fleet's home (default $CODEINTEL_FLEET_HOME, else "
                       "~/.codeintel/fleet)")
    for p in (run, summary):
        p.add_argument("--include-vendored", action="store_true",
                       help="rank vendored code (core.file_state.is_vendored: _vendor/, "
                       "third_party/, ...) with the project's own in the summary")
    run.add_argument("--skip-tool", action="append", default=[], metavar="TOOL",
                     choices=TOOL_NAMES, help=f"do not run this ToolService tool (one of "
                     f"{', '.join(TOOL_NAMES)}); its tables are written empty. Repeatable. "
                     "`--skip-tool tests` avoids executing the target's test suite; "
                     "`scip` is the symbol index, which pyrefly builds by default "
                     "(tools.symbol_indexer), so `--skip-tool pyrefly` leaves it.")
    run.add_argument("--python", metavar="PATH",
                     help="interpreter of the target's environment (default: "
                     "$CODEINTEL_TARGET_PYTHON, else <target>/.venv, else <target>/venv, else "
                     "this project's)")
    run.add_argument("--full", action="store_true",
                     help="rebuild every file-level table from all files (default: re-extract "
                     "only the files that changed since each table was written); the "
                     "target's test suite runs again too")
    run.add_argument("--rerun-tests", action="store_true",
                     help="run the target's test suite again even when a run of the same work "
                     "tree, interpreter and installed packages exists (tools.rerun_tests)")
    ask.add_argument("sql")
    ask.add_argument("--timeout", type=float, help="seconds the query may take, the wait for "
                     "a running write included; then it is interrupted (default "
                     "$CODEINTEL_READ_TIMEOUT_S or 60)")
    ask.add_argument("--format", choices=FORMATS, default="table",
                     help="table (default: the first 20 rows on the terminal), csv, jsonl "
                     "(one JSON object per row) or parquet (needs --output)")
    ask.add_argument("--output", metavar="FILE",
                     help="write the rows to FILE (default: stdout) with --format csv, jsonl "
                     "or parquet")
    ask.add_argument("--limit", type=int, metavar="N",
                     help="at most N rows (default: 20 for the table, all for the other "
                     "formats)")
    run.add_argument("--run-tests", action=argparse.BooleanOptionalAction, default=None,
                     help="with --fleet: whether sensors and automation may run the target's "
                     "test suite (default: keep the registry's setting; new checkouts: no)")
    run.add_argument("--verbose", action="store_true",
                     help="print Dagster's own event log (DEBUG) instead of the progress view; "
                     "it always goes to <db dir>/logs/materialize-<time>.log")
    sub.add_parser("steps", help="print the step graph as JSON")
    keys = sub.add_parser("partitions", help="list the fleet's partitions: the keys `dagster "
                          "asset materialize -m codeintel_assets.fleet --partition KEY` takes, "
                          "with each checkout, run_tests and the commit last ingested")
    keys.add_argument("--fleet-home", metavar="HOME",
                      help="the fleet's home (default $CODEINTEL_FLEET_HOME, else "
                      "~/.codeintel/fleet)")
    hook = sub.add_parser("install-hook", help="install a Git post-commit hook that launches "
                          "codeintel_ingest_job in a running Dagster at each commit")
    hook.add_argument("--repo", default=".", help="Git work tree (default: cwd)")
    hook.add_argument("--url", default=None,
                      help="Dagster webserver (default $CODEINTEL_DAGSTER_URL or http://127.0.0.1:3000)")
    args = parser.parse_args(argv)

    if args.command == "install-hook":
        from codeintel_assets.trigger import TriggerError, install_hook

        try:
            path = install_hook(args.repo, args.url)
        except TriggerError as exc:
            print(f"install-hook: {exc}", file=sys.stderr)
            return 1
        print(f"installed {path}")
        return 0

    # Before anything is created (warehouse folder, logs, Dagster instance): a target that
    # cannot be indexed is one line, not a run of failed steps.
    if args.command in ("materialize", "summary"):
        try:
            args.target = launch.checked_target(args.target)
        except launch.TargetError as exc:
            return _fail(args.command, exc)

    fleet = None
    if getattr(args, "fleet", False) or getattr(args, "fleet_home", None) or \
            args.command == "partitions":
        fleet = args.fleet_home or launch.configured_fleet_home()

    if args.command == "query":
        output = Output(args.format, args.output, args.limit)
        if output.problem():
            return _fail("query", output.problem())
        return print_query(args.sql, args.target, args.db, args.timeout, fleet, output)

    from codeintel_assets import run as api

    if args.command == "partitions":
        return api.print_partitions(fleet)
    if args.command == "steps":
        print(json.dumps(api.steps(), indent=2))
        return 0
    if args.command == "materialize":
        from dagster import BetaWarning

        from codeintel_assets import progress, terminal
        tools = [t for t in TOOL_NAMES if t not in args.skip_tool] if args.skip_tool else None
        if not args.verbose:
            # Dagster warns that its own selection parser calls a beta parameter: nothing a
            # user of this command can act on.
            warnings.filterwarnings("ignore", category=BetaWarning)
        try:
            log_file = _log_file(api.db_file(args.target, args.db, fleet))
        except OSError as exc:
            return _fail(args.command, exc)
        print(f"Dagster event log: {log_file}", file=sys.stderr, flush=True)
        # --verbose: Dagster's console logger says it all (the progress lines included).
        with contextlib.nullcontext() if args.verbose else terminal.view() as view, \
                progress.listening(view):
            result = api.materialize(args.select, args.target, args.db, tools,
                                     raise_on_error=False, full_rebuild=args.full,
                                     target_python=args.python, log_file=log_file,
                                     console_log=args.verbose, fleet=fleet,
                                     run_tests=args.run_tests, tool_config={
                                         "rerun_tests": True} if args.rerun_tests else None)
        if not result.success:
            failed = [e.step_key for e in result.all_events if e.is_step_failure]
            print(f"run failed in steps: {', '.join(failed)} (details in {log_file})",
                  file=sys.stderr)
            return 1
    try:
        print(api.format_summary(api.summary(args.target, args.db, fleet,
                                             args.include_vendored)))
    except FileNotFoundError as exc:
        return _fail(args.command, exc)
    return 0


def _fail(command: str, error: object) -> int:
    """A user's error: one line on stderr, exit status 1."""
    print(f"{command}: {error}", file=sys.stderr)
    return 1


def _log_file(db: str) -> Path:
    """A new log file per run, next to the database: <db dir>/logs/materialize-<local time>.log.
    Raises OSError naming the folder when the database's folder cannot be written. The folder
    is made as the gateway makes it (with its .gitignore), before any run."""
    from codeintel_assets.storage.location import warehouse_folder

    try:
        folder = warehouse_folder(Path(db).absolute())
        (folder / "logs").mkdir(exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create {exc.filename}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"cannot write to the database's folder {folder}: permission denied")
    return folder / "logs" / f"materialize-{datetime.datetime.now():%Y%m%d-%H%M%S}.log"


if __name__ == "__main__":
    sys.exit(main())
