"""pyright: run it on a list of files and parse its `--outputjson` report into diagnostic rows.

Invocation: `pyright --outputjson --pythonpath <python> <files...>` with cwd=root, where
`<python>` is the target's interpreter (tools/environment.py), so imports resolve against the
packages installed in the target's environment; otherwise pyright's defaults: the
target's pyrightconfig.json or `[tool.pyright]` in its pyproject.toml when it has one (its
`exclude` still applies to files named on the command line: pyright analyses an excluded file
not at all, so it gets no rows), else pyright's built-in defaults (typeCheckingMode "standard";
no configuration is needed). Files are passed as arguments, split into several invocations only past
`diagnostics.ARGV_BUDGET_BYTES` of paths (never for a repository of django's size).

Exit codes: 0 (no errors) and 1 (errors reported, a successful run) are accepted; 3 (the
target's pyrightconfig.json or [tool.pyright] cannot be read) raises TargetCausedError; 2
(fatal) and a signal are a crash, isolated to the files that cause it (tools/isolate.py); 4 (bad
command line, e.g. a missing file) and anything else raise ToolExecutionError, as does output
that is not pyright's JSON report.

Positions: the report's ranges are LSP positions, 0-based lines and 0-based columns in UTF-16
code units, end exclusive. Rows get line + 1 and columns as UTF-8 byte offsets. pyright's JSON
carries no documentation link, so rule_url is None; syntax errors have no rule, so code is ''.
"""

from __future__ import annotations

from codeintel_assets.tools.diagnostics import (
    UTF16,
    parse_report,
    run_chunks,
)
from codeintel_assets.tools.isolate import ToolRows
from codeintel_assets.tools.runner import ToolResult, ToolRunner

TOOL = "pyright"
OK_CODES = (0, 1)
# A crash: a signal, or 2 (pyright's fatal error). Isolated by bisection (tools/isolate.py).
CRASH_CODES = (2,)


def argv_for(files: list[str], python: str | None = None) -> list[str]:
    """Arguments after the executable."""
    return ["--outputjson", *(["--pythonpath", python] if python else []), *files]


def run(runner: ToolRunner, root: str, files: list[str], executable: str = TOOL,
        timeout_s: float = 600.0, python: str | None = None) -> ToolRows:
    """Diagnostic rows of pyright on `files` (rel_paths under `root`), resolving imports in the
    environment of `python` (default: the `python` on PATH); no rows for no files. A
    file that crashes the tool is isolated (tools/isolate.py) and returned as a culprit."""
    return run_chunks(runner, TOOL, root, files, executable, timeout_s,
                      lambda chunk: argv_for(chunk, python), parse, OK_CODES,
                      target_failure=config_failure, crash_codes=CRASH_CODES)


def config_failure(result: ToolResult) -> str | None:
    """The reason when pyright refused the target's configuration (exit code 3)."""
    if result.returncode != 3:
        return None
    lines = [ln for ln in (result.stderr + result.stdout).splitlines() if "onfig" in ln]
    return "pyright cannot read the target's configuration" + (f": {lines[-1].strip()}"
                                                              if lines else "")


def parse(output: str, root: str) -> list[dict]:
    """Rows from pyright's `--outputjson` text; diagnostics of files outside `root` are dropped.

    Raises ValueError for text that is not a pyright JSON report.
    """
    # pyright counts a BOM as the first character of line 1 (observed on 1.1.414).
    return parse_report(output, root, TOOL, UTF16, lambda data: data["generalDiagnostics"],
                        lambda d: d.get("file"), _fields, bom_counted=True)


def _fields(d: dict) -> tuple:
    rng = d.get("range") or {"start": {"line": 0, "character": 0}}
    start = rng["start"]
    end = rng.get("end") or start
    return (start["line"] + 1, start["character"], end["line"] + 1, end["character"],
            d.get("rule") or "", d["severity"], d["message"], None)
