"""`codeintel-assets`: materialize the warehouse, list steps, print a summary."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import sys
import warnings
from pathlib import Path

# The registry is a leaf module (no dagster): the CLI's help stays fast.
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
    run.add_argument("--skip-tool", action="append", default=[], metavar="TOOL",
                     choices=TOOL_NAMES, help=f"do not run this ToolService tool (one of "
                     f"{', '.join(TOOL_NAMES)}); its tables are written empty. Repeatable. "
                     "`--skip-tool tests` avoids executing the target's test suite.")
    run.add_argument("--python", metavar="PATH",
                     help="interpreter of the target's environment (default: "
                     "$CODEINTEL_TARGET_PYTHON, else <target>/.venv, else <target>/venv, else "
                     "this project's)")
    run.add_argument("--full", action="store_true",
                     help="rebuild every file-level table from all files (default: re-extract "
                     "only the files that changed since each table was written)")
    ask.add_argument("sql")
    ask.add_argument("--timeout", type=float, help="seconds to wait for a running write "
                     "(default $CODEINTEL_READ_TIMEOUT_S or 60)")
    run.add_argument("--run-tests", action=argparse.BooleanOptionalAction, default=None,
                     help="with --fleet: whether sensors and automation may run the target's "
                     "test suite (default: keep the registry's setting; new checkouts: no)")
    run.add_argument("--verbose", action="store_true",
                     help="print Dagster's own event log (DEBUG) instead of the progress view; "
                     "it always goes to <db dir>/logs/materialize-<time>.log")
    sub.add_parser("steps", help="print the step graph as JSON")
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

    from codeintel_assets import run as api

    fleet = None
    if getattr(args, "fleet", False) or getattr(args, "fleet_home", None):
        from codeintel_assets import launch

        fleet = args.fleet_home or launch.configured_fleet_home()

    if args.command == "query":
        return api.print_query(args.sql, args.target, args.db, args.timeout, fleet)
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
        log_file = _log_file(api.db_file(args.target, args.db, fleet))
        print(f"Dagster event log: {log_file}", file=sys.stderr, flush=True)
        # --verbose: Dagster's console logger says it all (the progress lines included).
        with contextlib.nullcontext() if args.verbose else terminal.view() as view, \
                progress.listening(view):
            result = api.materialize(args.select, args.target, args.db, tools,
                                     raise_on_error=False, full_rebuild=args.full,
                                     target_python=args.python, log_file=log_file,
                                     console_log=args.verbose, fleet=fleet,
                                     run_tests=args.run_tests)
        if not result.success:
            failed = [e.step_key for e in result.all_events if e.is_step_failure]
            print(f"run failed in steps: {', '.join(failed)} (details in {log_file})",
                  file=sys.stderr)
            return 1
    print(api.format_summary(api.summary(args.target, args.db, fleet)))
    return 0


def _log_file(db: str) -> Path:
    """A new log file per run, next to the database: <db dir>/logs/materialize-<local time>.log.
    The folder is made as the gateway makes it (with its .gitignore), before any run."""
    from codeintel_assets.storage.gateway import warehouse_folder

    logs = warehouse_folder(db) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"materialize-{datetime.datetime.now():%Y%m%d-%H%M%S}.log"


if __name__ == "__main__":
    sys.exit(main())
