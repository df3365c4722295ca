"""pyrefly: run `pyrefly check` on a list of files and parse its JSON report into diagnostic rows.

Invocation: `pyrefly check --output-format json --min-severity info --summary=none
--progress-bar no [--preset default] [--python-interpreter-path <python>] <files...>` with
cwd=root, where `<python>` is the target's interpreter (tools/environment.py): pyrefly asks it for
its version and site-packages, so imports resolve against the target's own environment.

- Configuration: a target with a pyrefly configuration (pyrefly.toml, or a `[tool.pyrefly]` table
  in pyproject.toml, in root or an ancestor, as pyrefly searches) is checked with it. Without one,
  pyrefly 1.4 falls back to its `basic` preset ("for unconfigured projects": parse errors and a
  few local checks, not even `x: int = "s"`), so `--preset default` is passed to get pyrefly's
  documented default checks, the counterpart of pyright's default "standard" mode.
- Excludes: files named on the command line ignore the config's `project-excludes` (pyrefly's
  rule), which a user's `pyrefly check` at the root honours. So the config's patterns (made
  absolute against the config's folder, as pyrefly reads them) are passed as
  `--project-excludes`, and the files are first asked of `pyrefly dump-config` with the same
  arguments: only those it lists as covered are checked (a run of excluded files only would
  fail), and ToolRows.excluded counts the others.
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

import dataclasses
import os
import tomllib
from pathlib import Path

from codeintel_assets.paths import RootPaths
from codeintel_assets.tools.diagnostics import (
    CODEPOINT,
    absolute_executable,
    chunk_paths,
    normalize_rel_paths,
    parse_report,
    path_args,
    run_chunks,
    run_tool,
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


def find_config(root: str) -> tuple[Path, dict] | None:
    """(folder, settings) of the configuration pyrefly would find for files under `root`:
    pyrefly.toml, else `[tool.pyrefly]` of pyproject.toml, nearest folder first; None without."""
    for folder in (Path(root).resolve(), *Path(root).resolve().parents):
        if (folder / "pyrefly.toml").is_file():
            return folder, _toml(folder / "pyrefly.toml")
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            tool = _toml(pyproject).get("tool", {})
            if isinstance(tool, dict) and isinstance(tool.get("pyrefly"), dict):
                return folder, tool["pyrefly"]
    return None


def _toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, ValueError):  # unreadable or not TOML: treated as no settings
        return {}


def has_config(root: str) -> bool:
    """Whether pyrefly would find a configuration for files under `root`."""
    return find_config(root) is not None


def project_excludes(root: str) -> list[str]:
    """The `project-excludes` (or `project_excludes`) patterns of the configuration pyrefly
    finds for `root`, absolute against its folder; [] without."""
    found = find_config(root)
    if found is None:
        return []
    folder, settings = found
    patterns = settings.get("project-excludes", settings.get("project_excludes"))
    return [os.path.join(folder, p) for p in patterns if isinstance(p, str)] \
        if isinstance(patterns, list) else []


def argv_for(files: list[str], configured: bool, python: str | None = None,
             excludes: list[str] | tuple = ()) -> list[str]:
    """Arguments after the executable."""
    return [*BASE_ARGS, *([] if configured else ["--preset", "default"]),
            *_options(python, excludes), *files]


def _options(python: str | None, excludes: list[str] | tuple) -> list[str]:
    return [*(a for p in excludes for a in ("--project-excludes", p)),
            *(["--python-interpreter-path", python] if python else [])]


def run(runner: ToolRunner, root: str, files: list[str], executable: str = TOOL,
        timeout_s: float = 600.0, python: str | None = None) -> ToolRows:
    """Diagnostic rows of `pyrefly check` on `files` (rel_paths under `root`), resolving imports
    in the environment of `python` (default: `python3` on PATH); no rows for no files. A
    file that crashes the tool is isolated (tools/isolate.py) and returned as a culprit."""
    configured = has_config(root)
    excludes = project_excludes(root)
    keep = normalize_rel_paths(files)
    wanted = len(keep)
    if excludes and keep:
        covered = covered_files(runner, root, keep, executable, timeout_s, python, excludes)
        keep = [f for f in keep if f in covered]
    found = run_chunks(runner, TOOL, root, keep, executable, timeout_s,
                       lambda chunk: argv_for(chunk, configured, python, excludes), parse,
                       OK_CODES, target_failure=config_failure, crash_codes=CRASH_CODES)
    return dataclasses.replace(found, excluded=wanted - len(keep)) if excludes else found


def covered_files(runner: ToolRunner, root: str, files: list[str], executable: str,
                  timeout_s: float, python: str | None, excludes: list[str]) -> frozenset[str]:
    """rel_paths of `files` that `pyrefly dump-config` (the check's own arguments) lists as
    covered: the others match `excludes`. Exit 1 with no listing: none is covered."""
    paths, covered = RootPaths(root), set()
    for chunk in chunk_paths(files):
        argv = [absolute_executable(executable), "dump-config", *_options(python, excludes),
                *path_args(chunk)]
        shown = run_tool(runner, TOOL, root, argv, timeout_s, (0, 1),
                         target_failure=config_failure)
        listing = False
        for line in shown.stdout.splitlines():
            if line.strip() == "Covered files:":
                listing = True
            elif listing and line.startswith("    ") and not line.rstrip().endswith(":"):
                covered.add(paths.rel(line.strip()))
            else:
                listing = False
    return frozenset(filter(None, covered))


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
