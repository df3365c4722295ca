"""pyrefly: run `pyrefly check` on a list of files and parse its JSON report into diagnostic rows.

Invocation: `pyrefly check --output-format json --min-severity info --summary=none
--progress-bar no [--preset default] [--python-interpreter-path <python>] <files...>` with
cwd=root, where `<python>` is the target's interpreter (tools/environment.py): pyrefly asks it for
its version and site-packages, so imports resolve against the target's own environment.

- Configuration: a target with a pyrefly configuration (pyrefly.toml, or a `[tool.pyrefly]` table
  in pyproject.toml, in root or an ancestor, as pyrefly searches) is checked with it. Without one,
  pyrefly 1.4 falls back to its `basic` preset ("for unconfigured projects": parse errors and a
  few local checks, not even `x: int = "s"`), so `--preset default` is passed to get pyrefly's
  documented default checks, the counterpart of pyright's default "standard" mode. Files named on
  the command line ignore the config's `project_excludes` (pyrefly's rule).
- `--min-severity info` reports warnings and information too (the default shows errors only);
  only errors are counted (`diagnostics.per_file_counts`).
- The JSON report gives paths relative to the working directory (root) whatever
  `--relative-to` says; `parse` accepts them relative to root or absolute.
- Without `python`, pyrefly queries `python3`/`python` on PATH.
- A configuration pyrefly cannot read makes it print `Fatal configuration error` on stderr and
  exit 1 with no report: that raises TargetCausedError (the target's fault, not ours).

Exit codes: 0 (no errors) and 1 (errors reported) are accepted; anything else raises
ToolExecutionError, as does output that is not pyrefly's JSON (pyrefly also exits 1 when it fails,
e.g. for a missing file, but then prints no JSON report on stdout).

Positions: `line`/`column` and `stop_line`/`stop_column` are 1-based, columns in Unicode code
points, stop exclusive. Rows get the lines as they are and columns - 1 as UTF-8 byte offsets. code
is the error kind's name (`bad-assignment`, `parse-error`); the JSON has no documentation link, so
rule_url is None; `description` (the full message) is the message.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from codeintel_assets.tools.diagnostics import (
    CODEPOINT,
    parse_report,
    run_chunks,
)
from codeintel_assets.tools.isolate import ToolRows
from codeintel_assets.tools.registry import PYREFLY
from codeintel_assets.tools.runner import ToolResult, ToolRunner

TOOL = PYREFLY.name
OK_CODES = (0, 1)
# A crash: a signal, or 101 (a Rust panic). Isolated by bisection (tools/isolate.py).
CRASH_CODES = (101,)
BASE_ARGS = ["check", "--output-format", "json", "--min-severity", "info", "--summary=none",
             "--progress-bar", "no"]


def has_config(root: str) -> bool:
    """Whether pyrefly would find a configuration for files under `root`."""
    for folder in (Path(root).resolve(), *Path(root).resolve().parents):
        if (folder / "pyrefly.toml").is_file():
            return True
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                with pyproject.open("rb") as fh:
                    if "pyrefly" in tomllib.load(fh).get("tool", {}):
                        return True
            except (OSError, ValueError):  # unreadable or not TOML: treated as no config
                continue
    return False


def argv_for(files: list[str], configured: bool, python: str | None = None) -> list[str]:
    """Arguments after the executable."""
    return [*BASE_ARGS, *([] if configured else ["--preset", "default"]),
            *(["--python-interpreter-path", python] if python else []), *files]


def run(runner: ToolRunner, root: str, files: list[str], executable: str = TOOL,
        timeout_s: float = 600.0, python: str | None = None) -> ToolRows:
    """Diagnostic rows of `pyrefly check` on `files` (rel_paths under `root`), resolving imports
    in the environment of `python` (default: `python3` on PATH); no rows for no files. A
    file that crashes the tool is isolated (tools/isolate.py) and returned as a culprit."""
    configured = has_config(root)
    return run_chunks(runner, TOOL, root, files, executable, timeout_s,
                      lambda chunk: argv_for(chunk, configured, python), parse, OK_CODES,
                      target_failure=config_failure, crash_codes=CRASH_CODES)


def config_failure(result: ToolResult) -> str | None:
    """The reason when pyrefly refused the target's configuration."""
    if "Fatal configuration error" not in result.stderr:
        return None
    detail = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()
              and not ln.lstrip().startswith(("|", "^")) and "Fatal configuration" not in ln]
    return "pyrefly cannot read the target's configuration" + (f": {detail[-1]}" if detail
                                                               else "")


def parse(output: str, root: str) -> list[dict]:
    """Rows from pyrefly's `--output-format json` text; files outside `root` are dropped.

    Raises ValueError for text that is not a pyrefly JSON report.
    """
    return parse_report(output, root, TOOL, CODEPOINT, lambda data: data["errors"],
                        lambda e: e.get("path"), _fields)


def _fields(e: dict) -> tuple:
    return (e["line"], e["column"] - 1, e["stop_line"], e["stop_column"] - 1,
            e.get("name") or "", e["severity"],
            e.get("description") or e.get("concise_description") or "", None)
