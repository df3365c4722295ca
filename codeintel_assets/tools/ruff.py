"""ruff: run `ruff check` on a list of files and parse its JSON report into diagnostic rows.

Invocation, with cwd=root: `ruff check --show-files --no-cache --no-fix --no-fix-only` once, then
`ruff check --output-format json --no-cache --no-fix --no-fix-only --force-exclude <files...>`.

- Read-only, whatever the target's configuration says: `--no-fix` overrides its `fix = true`
  (and with it `unsafe-fixes`), `--no-fix-only` its `fix-only = true` (which `--no-fix` alone
  does not override: ruff 0.17.6 still rewrites the files), and `--no-cache` keeps ruff from
  writing `.ruff_cache` (or the configured `cache-dir`). `show-fixes` only changes text output.
- Configuration: the target's own ruff configuration (ruff.toml, .ruff.toml or `[tool.ruff]` in
  pyproject.toml, found upward from each file, nested ones included, else ruff's defaults)
  chooses the rules, so the counts reflect the project's lint standard. The files linted are
  those a user's `ruff check` at the root would lint: `--show-files` lists them (ruff's walk
  applies `exclude`/`extend-exclude` of every configuration, `include`, and `.gitignore` under
  `respect-gitignore`), only the given files among them are passed, and `--force-exclude`
  applies the excludes to them once more. The other given files get no rows; ToolRows.excluded
  counts them. A configuration this ruff cannot read (exit 2, `Failed to parse <file>` on
  stderr) raises TargetCausedError naming the file; `isolated=True` (`--isolated`) then ignores
  every configuration file and lints with ruff's defaults (and its default excludes), so the
  rows can still be produced.
- No `--exit-zero`: the exit code is checked here. 0 (clean) and 1 (violations found) are
  accepted; a signal (ruff 0.17.6 aborts on a stack overflow in a worker thread for a deeply
  nested expression checked with other files) or 101 (a panic) is a crash, isolated to the
  files that cause it (tools/isolate.py); 2 (bad arguments) and anything else raise
  ToolExecutionError, as does output that is not ruff's JSON.

Positions: `location`/`end_location` have 1-based `row` and 1-based `column` in Unicode code
points, end exclusive. Rows get the rows as they are and columns - 1 as UTF-8 byte offsets. code
is ruff's code (F401; ruff 0.17 reports syntax errors as `invalid-syntax`, an absent code becomes
''); rule_url is ruff's `url` (None for syntax errors). Every ruff violation counts as an error:
severity is ruff's own `severity` field ('error' for every violation in 0.17), 'error' if absent.

Style versus lint: a row's category (style findings are not errors) is `diagnostics.category`.
"""

from __future__ import annotations

import dataclasses
import re
import time

from codeintel_assets.paths import RootPaths
from codeintel_assets.tools.diagnostics import (
    CODEPOINT,
    absolute_executable,
    normalize_rel_paths,
    parse_report,
    run_chunks,
    run_tool,
)
from codeintel_assets.tools.isolate import ToolRows
from codeintel_assets.tools.registry import RUFF
from codeintel_assets.tools.runner import ToolResult, ToolRunner

TOOL = RUFF.name
OK_CODES = (0, 1)
# A crash: a signal, or 101 (a Rust panic). Isolated by bisection (tools/isolate.py).
CRASH_CODES = (101,)
# Whatever the target's configuration says, ruff neither fixes files nor writes its cache.
_READ_ONLY = ("--no-cache", "--no-fix", "--no-fix-only")


_BAD_CONFIG = re.compile(r"Failed to parse (.+)")


def argv_for(files: list[str], isolated: bool = False) -> list[str]:
    """Arguments after the executable."""
    return ["check", "--output-format", "json", *_READ_ONLY, "--force-exclude",
            *(["--isolated"] if isolated else []), *files]


def run(runner: ToolRunner, root: str, files: list[str], executable: str = TOOL,
        timeout_s: float = 600.0, isolated: bool = False) -> ToolRows:
    """Diagnostic rows of `ruff check` on those of `files` (rel_paths under `root`) that a
    user's `ruff check` at `root` lints (`lintable`); no rows, and no run, for no files. A
    file that crashes the tool is isolated (tools/isolate.py) and returned as a culprit;
    `excluded` counts the given files the configuration leaves out."""
    wanted = normalize_rel_paths(files)
    if not wanted:
        return ToolRows()
    started = time.monotonic()
    linted = lintable(runner, root, executable, timeout_s, isolated)
    keep = [f for f in wanted if f in linted]
    found = run_chunks(runner, TOOL, root, keep, executable,
                       max(0.0, timeout_s - (time.monotonic() - started)),
                       lambda chunk: argv_for(chunk, isolated), parse, OK_CODES,
                       target_failure=config_failure, crash_codes=CRASH_CODES)
    return dataclasses.replace(found, excluded=len(wanted) - len(keep))


def lintable(runner: ToolRunner, root: str, executable: str = TOOL, timeout_s: float = 600.0,
             isolated: bool = False) -> frozenset[str]:
    """rel_paths of the files `ruff check` run at `root` lints (`--show-files`: ruff's own walk
    under the target's configuration, or its defaults when `isolated`). Raises as
    diagnostics.run_tool: TargetCausedError for a configuration ruff cannot read."""
    argv = [absolute_executable(executable), "check", "--show-files", *_READ_ONLY,
            *(["--isolated"] if isolated else [])]
    shown = run_tool(runner, TOOL, root, argv, timeout_s, (0,), target_failure=config_failure)
    paths = RootPaths(root)
    return frozenset(filter(None, (paths.rel(line) for line in shown.stdout.splitlines())))


def config_failure(result: ToolResult) -> str | None:
    """The reason when ruff refused the target's configuration (names the file)."""
    match = _BAD_CONFIG.search(result.stderr) if result.returncode == 2 else None
    return f"ruff cannot read the target's configuration {match.group(1).strip()}" \
        if match else None


def parse(output: str, root: str) -> list[dict]:
    """Rows from ruff's `--output-format json` text; files outside `root` are dropped.

    Raises ValueError for text that is not a ruff JSON report.
    """
    return parse_report(output, root, TOOL, CODEPOINT, _records, lambda v: v.get("filename"),
                        _fields)


def _records(data) -> list:
    if not isinstance(data, list):
        raise ValueError(f"ruff JSON report is a {type(data).__name__}, not a list")  # noqa: TRY004
    return data


def _fields(v: dict) -> tuple:
    start = v["location"]
    end = v.get("end_location") or start
    return (start["row"], start["column"] - 1, end["row"], end["column"] - 1,
            v.get("code") or "", v.get("severity") or "error", v["message"], v.get("url"))
