"""ruff: run `ruff check` on a list of files and parse its JSON report into diagnostic rows.

Invocation: `ruff check --output-format json --no-cache <files...>` with cwd=root.

- Configuration: the target's own ruff configuration (ruff.toml, .ruff.toml or `[tool.ruff]` in
  pyproject.toml, found upward from each file, else ruff's defaults) chooses the rules, so the
  counts reflect the project's lint standard. Its `exclude`/`extend-exclude` do NOT drop the given
  files: ruff lints files named on the command line unless `--force-exclude` is passed, and it is
  not. A configuration this ruff cannot read (exit 2, `Failed to parse <file>` on stderr) raises
  TargetCausedError naming the file; `isolated=True` (`--isolated`) then ignores every
  configuration file and lints with ruff's defaults, so the rows can still be produced.
- `--no-cache` keeps ruff from writing `.ruff_cache` into the target.
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

Style versus lint (STYLE_CODE): a ruff row is a style finding, not a lint error, when its rule
belongs to a linter about form rather than defects. The list is kept by linter prefix, short on
purpose: ruff's JSON report names no linter or category, and the per-rule `category` of `ruff
rule --all` (0.17) puts e.g. UP006 under "suspicious", so it cannot stand in for it. Lint is
everything else, which includes ruff's default rules (F, E4, E7, E9).
"""

from __future__ import annotations

import re

from codeintel_assets.tools.diagnostics import (
    CODEPOINT,
    parse_report,
    run_chunks,
)
from codeintel_assets.tools.isolate import ToolRows
from codeintel_assets.tools.registry import RUFF
from codeintel_assets.tools.runner import ToolResult, ToolRunner

TOOL = RUFF.name
OK_CODES = (0, 1)
# A crash: a signal, or 101 (a Rust panic). Isolated by bisection (tools/isolate.py).
CRASH_CODES = (101,)


_BAD_CONFIG = re.compile(r"Failed to parse (.+)")
# Codes of ruff's style linters (a regular expression for DuckDB's regexp_matches and re):
# pycodestyle's layout and whitespace (E1, E2, E3, E5, W; its E4/E7/E9 are lint, ruff's
# defaults), pyupgrade (modernisation: UP045 `Optional[X]`), isort, pydocstyle, pep8-naming,
# flake8-commas, flake8-quotes, flake8-implicit-str-concat, flake8-future-annotations and
# flake8-annotations (missing annotations are risk's typedness component already). The digit
# after the prefix keeps DJ, DTZ, NPY, INP, INT, FAST and FBT out.
STYLE_CODE = r"^(E[1235]|W|UP|I|D|N|COM|Q|ISC|FA|ANN)[0-9]"


def argv_for(files: list[str], isolated: bool = False) -> list[str]:
    """Arguments after the executable."""
    return ["check", "--output-format", "json", "--no-cache",
            *(["--isolated"] if isolated else []), *files]


def run(runner: ToolRunner, root: str, files: list[str], executable: str = TOOL,
        timeout_s: float = 600.0, isolated: bool = False) -> ToolRows:
    """Diagnostic rows of `ruff check` on `files` (rel_paths under `root`); no rows for no files. A
    file that crashes the tool is isolated (tools/isolate.py) and returned as a culprit."""
    return run_chunks(runner, TOOL, root, files, executable, timeout_s,
                      lambda chunk: argv_for(chunk, isolated), parse, OK_CODES,
                      target_failure=config_failure, crash_codes=CRASH_CODES)


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
