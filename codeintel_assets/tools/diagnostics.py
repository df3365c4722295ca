"""Diagnostic rows of pyright, pyrefly and ruff: shared helpers, occurrences, per-file counts.

A diagnostic row (what `tools.pyright.parse`, `tools.pyrefly.parse` and `tools.ruff.parse` return)
has the keys of `ROW_KEYS`: tool, rel_path (POSIX, relative to the scanned root), line (1-based),
col (0-based), end_line (1-based, inclusive), end_col (0-based, exclusive), code, severity
(error | warning | information), message and rule_url. The caller adds repo, commit and (through
`number_occurrences`) occurrence, which together form the analytics.diagnostics key, and the
row's `category`.

Categories (`category`): 'type' for the type checkers' rows (pyright, pyrefly); for ruff's,
'style' when the rule belongs to a linter about form rather than defects (STYLE_CODE), else
'lint'. Only type and lint errors are errors in analytics.static_diagnostics and in risk; style
findings are counted apart. STYLE_CODE is kept by linter prefix, short on purpose: ruff's JSON
report names no linter or category, and the per-rule `category` of `ruff rule --all` (0.17) puts
e.g. UP006 under "suspicious", so it cannot stand in for it. Lint is everything else, which
includes ruff's default rules (F, E4, E7, E9) and syntax errors.

Columns follow the project convention of 0-based UTF-8 byte offsets. The tools count columns in
other units (pyright: UTF-16 code units, as LSP does; pyrefly and ruff: Unicode code points), so
columns on lines that are not pure ASCII are converted through the file's
`extract.lines.LineIndex` (`SourceLines`, each file read once); on ASCII lines every unit is one
byte, nothing to convert.

`number_occurrences` and `per_file_counts` are pure. The module imports no dagster.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import time
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from codeintel_assets.extract import lines as column_units
from codeintel_assets.extract.lines import BOM, LineIndex
from codeintel_assets.extract.pysource import decode_python
from codeintel_assets.paths import RootPaths
from codeintel_assets.tools.isolate import Culprit, ToolRows, is_crash, isolate
from codeintel_assets.tools.registry import (
    BY_NAME,
    PYREFLY,
    PYRIGHT,
    RUFF,
    STATIC_TOOLS,
)
from codeintel_assets.tools.runner import (
    TargetCausedError,
    ToolCrashError,
    ToolExecutionError,
    ToolNotFoundError,
    ToolResult,
    ToolRunner,
    ToolTimeoutError,
    tail,
)

ROW_KEYS = ("tool", "rel_path", "line", "col", "end_line", "end_col", "code", "severity",
            "message", "rule_url")
TOOLS = STATIC_TOOLS  # the per-file counts' tools (registry order)

UTF16 = column_units.UTF16  # pyright's column unit (LSP positions)
CODEPOINT = column_units.UTF32  # pyrefly's and ruff's column unit (code points)

_SEVERITIES = {
    "error": "error",
    "warning": "warning", "warn": "warning",
    "information": "information", "info": "information",
}

# Bytes of file arguments per invocation. Linux allows ~2 MiB of argv + environment (one argument
# at most 128 KiB); 512 KiB keeps a ~3000-file repository such as django (2823 files, 113 KiB of
# paths) in one invocation, so a type checker analyses the shared imports once.
ARGV_BUDGET_BYTES = 512 * 1024


def severity(value: object) -> str:
    """The table's severity for a tool's severity word; ValueError for one it does not know."""
    try:
        return _SEVERITIES[str(value).lower()]
    except KeyError:
        raise ValueError(f"unknown diagnostic severity {value!r}") from None


def make_row(tool: str, rel_path: str, line: int, col: int, end_line: int, end_col: int,
             code: str, sev: str, message: str, rule_url: str | None) -> dict:
    return {"tool": tool, "rel_path": rel_path, "line": line, "col": col, "end_line": end_line,
            "end_col": end_col, "code": code, "severity": sev, "message": message,
            "rule_url": rule_url}


def normalize_rel_paths(files: Iterable[str]) -> list[str]:
    """Distinct POSIX rel_paths in first-seen order (`./a.py` and `a.py` are one file)."""
    seen: dict[str, None] = {}
    for f in files:
        seen.setdefault(str(PurePosixPath(os.path.normpath(str(f)).replace(os.sep, "/"))), None)
    return list(seen)


class SourceLines:
    """LineIndexes of the files under `root`, each file read at most once, for column conversion.

    A file is decoded as Python decodes it (`pysource.decode_python`: PEP 263 cookie, BOM
    dropped); an all-ASCII, unreadable or undecodable file converts nothing. `bom_counted`:
    the tool counts a UTF-8 BOM as a character of line 1 (pyright does, ruff does not), so its
    line-1 columns are read past the BOM.
    """

    def __init__(self, root: str, bom_counted: bool = False) -> None:
        self.root = root
        self.bom_counted = bom_counted
        self._files: dict[str, LineIndex | None] = {}

    def index(self, rel_path: str) -> LineIndex | None:
        """The LineIndex of `rel_path`, None when its columns need no (or allow no) conversion."""
        if rel_path not in self._files:
            try:
                data = Path(self.root, rel_path).read_bytes()
                # An all-ASCII file needs no conversion: remember None and read nothing more.
                if data.isascii():
                    self._files[rel_path] = None
                else:
                    text = decode_python(data)
                    if self.bom_counted and data.startswith(codecs.BOM_UTF8):
                        text = BOM + text
                    self._files[rel_path] = LineIndex(text)
            except (OSError, UnicodeDecodeError, SyntaxError):
                self._files[rel_path] = None
        return self._files[rel_path]

    def byte_col(self, rel_path: str, line: int, col: int, unit: str) -> int:
        """`col` of 1-based `line` (in `unit`, see extract/lines.py) as a 0-based UTF-8 byte
        offset; unchanged on ASCII, absent or unreadable lines."""
        index = self.index(rel_path)
        return col if index is None else index.byte_col(line, col, unit)


def load_json(output: str, tool: str) -> Any:
    try:
        return json.loads(output)
    except ValueError as exc:
        raise ValueError(f"{tool} output is not JSON: {exc}; starts with {output[:200]!r}") from exc


def parse_report(output: str, root: str, tool: str, unit: str,
                 records: Callable[[Any], Iterable[dict]], path: Callable[[dict], str],
                 fields: Callable[[dict], tuple], bom_counted: bool = False) -> list[dict]:
    """Diagnostic rows from a tool's JSON report: the loop the three parsers share.

    `records(data)` gives the report's diagnostics, `path(record)` its file (records of files
    outside `root` are dropped) and `fields(record)` the tuple (line, col, end_line, end_col,
    code, severity word, message, rule_url) with 1-based lines and 0-based columns in `unit`
    (counting a BOM on line 1 if `bom_counted`, see SourceLines). Raises ValueError for text that is not such a report.
    """
    data = load_json(output, tool)
    try:
        lines, paths = SourceLines(root, bom_counted), RootPaths(root)
        rows = []
        for record in records(data):
            rel = paths.rel(path(record) or "")
            if rel is None:
                continue
            line, col, end_line, end_col, code, sev, message, url = fields(record)
            rows.append(make_row(
                tool, rel, line, lines.byte_col(rel, line, col, unit),
                end_line, lines.byte_col(rel, end_line, end_col, unit),
                code, severity(sev), message, url,
            ))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"unexpected {tool} JSON structure: {exc!r}") from exc
    return rows


# --- running a tool ------------------------------------------------------------------------------

def chunk_paths(files: Sequence[str], budget: int = ARGV_BUDGET_BYTES) -> list[list[str]]:
    """Split file arguments into invocations of at most `budget` bytes of arguments each."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for f in files:
        n = len(f.encode()) + 1
        if current and size + n > budget:
            chunks.append(current)
            current, size = [], 0
        current.append(f)
        size += n
    if current:
        chunks.append(current)
    return chunks


def path_args(files: Sequence[str]) -> list[str]:
    """File arguments; a path starting with `-` gets `./` so it is not read as an option."""
    return [f"./{f}" if f.startswith("-") else f for f in files]


def run_tool(runner: ToolRunner, tool: str, root: str, argv: Sequence[str], timeout_s: float,
             ok_codes: Sequence[int], env: Mapping[str, str] | None = None,
             target_failure: Callable[[ToolResult], str | None] = lambda result: None,
             crash_codes: Container[int] = ()) -> ToolResult:
    """One run of `argv` (executable first) with cwd=`root`, its exit code judged.

    A missing executable raises ToolNotFoundError naming `tool` with its install hint; a
    timeout ToolTimeoutError; `target_failure(result)` naming a reason TargetCausedError,
    whatever the exit code; a signal or an exit code in `crash_codes` ToolCrashError; any
    other exit code outside `ok_codes` ToolExecutionError.
    """
    try:
        result = runner.run(argv, cwd=root, env=env, timeout_s=timeout_s,
                            ok_codes=range(-256, 256))
    except ToolNotFoundError as exc:
        hint = BY_NAME[tool].install_hint()
        raise ToolNotFoundError(
            tool, f"{argv[0]!r} was not found; install it ({hint}) or configure its "
                  "path") from exc
    reason, rc = target_failure(result), result.returncode
    if reason or rc not in ok_codes:
        output = tail(result.stderr or result.stdout)
        if reason:
            raise TargetCausedError(argv, rc, output, reason)
        if rc < 0 or rc in crash_codes:
            raise ToolCrashError(argv, rc, output, f"{tool} crashed")
        raise ToolExecutionError(argv, rc, output, "tool failed")
    return result


def absolute_executable(executable: str) -> str:
    """A relative path must mean the same to the PATH check and to the child (cwd=root)."""
    return os.path.abspath(executable) if os.sep in executable and \
        not os.path.isabs(executable) else executable


def run_chunks(
    runner: ToolRunner,
    tool: str,
    root: str,
    files: Sequence[str],
    executable: str,
    timeout_s: float,
    make_argv: Callable[[list[str]], list[str]],
    parse: Callable[[str, str], list[dict]],
    ok_codes: Sequence[int],
    env: Mapping[str, str] | None = None,
    target_failure: Callable[[ToolResult], str | None] = lambda result: None,
    crash_codes: Container[int] = (),
) -> ToolRows:
    """Run `tool` over `files` (chunked), parse each output, keep rows of the requested files.

    Rows come sorted by rel_path, position, code, severity and message, so that the order (and
    with it `number_occurrences`) does not depend on the order a multi-threaded tool reports in.

    `timeout_s` bounds the whole run (all chunks). Each invocation is judged by `run_tool`
    (missing tool, timeout, the target's configuration refused, crash, other exit codes). A
    crash is isolated (tools/isolate.py): the files it crashes on are found by bisection and
    returned as culprits, every other file's rows are kept. Output `parse` rejects raises
    ToolExecutionError. `env` adds environment variables.
    """
    wanted = normalize_rel_paths(files)
    if not wanted:
        return ToolRows()  # without file arguments the tools would check the whole project
    executable = absolute_executable(executable)
    deadline = time.monotonic() + timeout_s

    def run(chunk: list[str]) -> list[dict]:
        argv = [executable, *make_argv(path_args(chunk))]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ToolTimeoutError(argv, None, "", f"timed out: {tool} exceeded {timeout_s}s")
        result = run_tool(runner, tool, root, argv, remaining, ok_codes, env, target_failure,
                          crash_codes)
        try:
            return parse(result.stdout, root)
        except ValueError as exc:
            raise ToolExecutionError(argv, result.returncode, tail(result.stderr),
                                     f"unparseable {tool} output ({exc})") from exc

    rows: list[dict] = []
    culprits: list[Culprit] = []
    runs = 0
    for chunk in chunk_paths(wanted, ARGV_BUDGET_BYTES):
        try:
            rows.extend(run(chunk))
        except ToolExecutionError as exc:
            if not is_crash(exc):
                raise
            found = isolate(tool, chunk, run, exc)
            rows.extend(found.rows)
            culprits.extend(found.culprits)
            runs += found.runs
        runs += 1
    keep = set(wanted)
    return ToolRows(sorted((r for r in rows if r["rel_path"] in keep), key=_row_order),
                    culprits, runs)


def _row_order(row: dict) -> tuple:
    return (row["rel_path"], row["line"], row["col"], row["end_line"], row["end_col"],
            row["code"], row["severity"], row["message"])


# --- derived rows --------------------------------------------------------------------------------

# Codes of ruff's style linters (a regular expression for DuckDB's regexp_matches and re):
# pycodestyle's layout and whitespace (E1, E2, E3, E5, W; its E4/E7/E9 are lint, ruff's
# defaults), pyupgrade (modernisation: UP045 `Optional[X]`), isort, pydocstyle, pep8-naming,
# flake8-commas, flake8-quotes, flake8-implicit-str-concat, flake8-future-annotations and
# flake8-annotations (missing annotations are risk's typedness component already). The digit
# after the prefix keeps DJ, DTZ, NPY, INP, INT, FAST and FBT out.
STYLE_CODE = r"^(E[1235]|W|UP|I|D|N|COM|Q|ISC|FA|ANN)[0-9]"
_STYLE = re.compile(STYLE_CODE)


def category(tool: str, code: str) -> str:
    """'type' (pyright, pyrefly), 'style' (a ruff rule matching STYLE_CODE) or 'lint'."""
    if tool != RUFF.name:
        return "type"
    return "style" if _STYLE.match(code or "") else "lint"


def number_occurrences(rows: Iterable[dict]) -> list[dict]:
    """Copies of `rows` with `occurrence`: 1, 2, ... among rows sharing tool, rel_path, line, col
    and code, in input order (so the analytics.diagnostics key is unique), and `category`."""
    seen: dict[tuple, int] = {}
    out = []
    for row in rows:
        key = (row["tool"], row["rel_path"], row["line"], row["col"], row["code"])
        seen[key] = seen.get(key, 0) + 1
        out.append({**row, "occurrence": seen[key],
                    "category": category(row["tool"], row["code"])})
    return out


def per_file_counts(rows: Iterable[dict], scanned_paths: Iterable[str]) -> list[dict]:
    """analytics.static_diagnostics rows (without repo/commit) for every scanned path, zeros
    included, in scanned order; rows of paths that were not scanned are not counted.

    pyright_errors and pyrefly_errors count rows of severity 'error' (warnings and information
    are not errors); ruff_errors counts the ruff rows of category 'lint', whatever their
    severity (every ruff violation is an error), and style_findings its 'style' rows, which are
    not errors (`category`).
    """
    counts: dict[str, dict[str, int]] = {}
    for path in scanned_paths:
        counts.setdefault(path, {**{t: 0 for t in TOOLS}, "style": 0})
    for row in rows:
        per_tool = counts.get(row["rel_path"])
        tool = row["tool"]
        if per_tool is None or tool not in per_tool:
            continue
        if tool == RUFF.name:
            per_tool["style" if category(tool, row["code"]) == "style" else tool] += 1
        elif row["severity"] == "error":
            per_tool[tool] += 1
    out = []
    for path, c in counts.items():
        total = c[PYRIGHT.name] + c[PYREFLY.name] + c[RUFF.name]
        out.append({"rel_path": path, "pyright_errors": c[PYRIGHT.name],
                    "pyrefly_errors": c[PYREFLY.name], "ruff_errors": c[RUFF.name],
                    "style_findings": c["style"], "total_errors": total,
                    "has_errors": total > 0})
    return out
