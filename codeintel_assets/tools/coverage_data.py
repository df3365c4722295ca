"""coverage.py data -> analytics.coverage_lines rows.

The data file of the shared test run (tools/testrun.py) records, per line, the pytest-cov
contexts that ran it: `<nodeid>|setup`, `<nodeid>|run`, `<nodeid>|teardown`. `coverage_rows`
strips the phase, so every context in coverage_lines.contexts is an analytics.test_catalog
test_id of the same run. No dagster import.
"""

from __future__ import annotations

import json
import os

import coverage
from coverage.parser import PythonParser

from codeintel_assets.paths import RootPaths

_PHASES = ("setup", "run", "teardown")


def context_test_id(context: str) -> str:
    """pytest-cov's `<nodeid>|<phase>` -> `<nodeid>`; other contexts are kept as they are."""
    nodeid, sep, phase = context.rpartition("|")
    return nodeid if sep and phase in _PHASES else context


def _exclude_regex() -> str:
    rules = coverage.Coverage(config_file=False).get_option("report:exclude_lines")
    rules = rules if isinstance(rules, list) else []
    return "|".join(f"(?:{rule})" for rule in rules)


def _parse(path: str, exclude: str) -> PythonParser | None:
    try:
        parser = PythonParser(filename=path, exclude=exclude or None)
        parser.parse_source()
    except Exception:  # noqa: BLE001 - unparsable or unreadable: fall back to executed lines
        return None
    return parser


def coverage_rows(coverage_path: str, root: str, scanned: set[str] | None = None, *,
                  include_unmeasured: bool = False) -> list[dict]:
    """analytics.coverage_lines rows (without repo/commit) of a coverage.py data file.

    One row per line that coverage.py counts as a statement or that ran, for each measured file
    under `root` (and in `scanned`, when given). Raw line numbers are mapped to the first line
    of their statement as coverage.py's reports do. `hits` = `context_count` = the number of
    distinct test node ids that ran the line: coverage.py records which contexts ran a line,
    never how often. The empty context (code run outside any test: imports, collection,
    session fixtures) marks a line covered without adding a context. A line excluded by
    coverage.py's default rules (`pragma: no cover`, `if TYPE_CHECKING:`, `...` bodies) is not
    executable; if it ran anyway it is still reported, covered. With `include_unmeasured`
    (needs `scanned`), scanned Python files coverage.py never saw (not imported, and not in a
    package directory it searched) add their statements as not covered.
    """
    if not os.path.exists(coverage_path):
        raise FileNotFoundError(coverage_path)
    data = coverage.CoverageData(basename=coverage_path)
    data.read()
    exclude = _exclude_regex()
    rows: list[dict] = []
    seen: set[str] = set()
    paths = RootPaths(root)
    for measured in sorted(data.measured_files()):
        rel = paths.rel(measured)
        if rel is None or (scanned is not None and rel not in scanned) or rel in seen:
            continue
        seen.add(rel)
        abs_path = measured if os.path.isabs(measured) else os.path.join(root, measured)
        parser = _parse(abs_path, exclude)
        by_line: dict[int, set[str]] = {}
        for lineno, contexts in (data.contexts_by_lineno(measured) or {}).items():
            if lineno <= 0:
                continue
            line = parser.first_line(lineno) if parser is not None else lineno
            by_line.setdefault(line, set()).update(contexts)
        statements = set(parser.statements) if parser is not None else set(by_line)
        rows.extend(_line_rows(rel, statements, by_line))
    if include_unmeasured and scanned is not None:
        for rel in sorted(scanned - seen):
            if not rel.endswith(".py"):
                continue
            parser = _parse(os.path.join(root, rel), exclude)
            if parser is not None:
                rows.extend(_line_rows(rel, set(parser.statements), {}))
    return rows


def _line_rows(rel: str, statements: set[int], by_line: dict[int, set[str]]) -> list[dict]:
    rows = []
    for line in sorted(statements | set(by_line)):
        ran = line in by_line
        tests = sorted({context_test_id(c) for c in by_line.get(line, ()) if c})
        rows.append({"rel_path": rel, "line": line, "is_executable": line in statements,
                     "is_covered": ran, "hits": len(tests), "context_count": len(tests),
                     "contexts": json.dumps(tests)})
    return rows
