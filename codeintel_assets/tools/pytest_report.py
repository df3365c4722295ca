"""pytest-json-report -> analytics.test_catalog rows.

`test_rows` reads the report of the shared test run (tools/testrun.py), or one the target already
has, and names each test by its pytest node id, the id coverage contexts carry too. No dagster
import.
"""

from __future__ import annotations

import ast
import json
import os
import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple

from codeintel_assets.paths import RootPaths

_STATUSES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")


def load_report(path: str) -> dict | None:
    """The report as JSON, None when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def collected(path: str) -> int | None:
    """How many tests the report at `path` says pytest collected (its summary's `collected`,
    else the number of test entries); None when there is no readable report."""
    report = load_report(path)
    if report is None:
        return None
    return report.get("summary", {}).get("collected", 0) or len(report.get("tests", []))


def unsuccessful(path: str) -> int:
    """Tests that failed or ended in error, and collectors (test modules, classes) that failed,
    in the report at `path` (the summary's `failed` + `error`, which leaves collectors out);
    0 when there is no readable report."""
    report = load_report(path) or {}
    summary = report.get("summary", {})
    collectors = sum(c.get("outcome") == "failed" for c in report.get("collectors", []))
    return int(summary.get("failed", 0)) + int(summary.get("error", 0)) + collectors


def split_nodeid(nodeid: str) -> tuple[str, list[str], str | None]:
    """`tests/t.py::TestX::test_y[a-b]` -> ('tests/t.py', ['TestX', 'test_y'], 'a-b')."""
    file_part, _, rest = nodeid.partition("::")
    param = None
    if "[" in rest and rest.endswith("]"):
        rest, _, param = rest.partition("[")
        param = param[:-1]
    return file_part, [n for n in rest.split("::") if n], param


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return None


def _failure_message(stage: Mapping) -> str | None:
    crash = stage.get("crash") or {}
    if crash.get("message"):
        return _first_line(crash["message"])
    return _longrepr_message(stage.get("longrepr"))


def _longrepr_message(longrepr) -> str | None:
    if not longrepr:
        return None
    text = str(longrepr)
    e_lines = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    e_lines = [ln for ln in e_lines if ln]
    if e_lines:
        return e_lines[-1]
    return _first_line(text)


def _skip_reason(longrepr) -> str | None:
    """pytest-json-report stores a skip as str(('path', lineno, 'Skipped: reason'))."""
    if not longrepr:
        return None
    text = str(longrepr)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, tuple) and len(value) == 3:
        text = str(value[2])
    text = _first_line(text) or ""
    return text.removeprefix("Skipped: ") or None


def _status(test: Mapping) -> str:
    stages = [test.get(s) or {} for s in ("setup", "call", "teardown")]
    if any(st.get("outcome") == "failed" for st in (stages[0], stages[2])):
        return "error"
    outcome = test.get("outcome", "")
    if outcome in _STATUSES:
        return outcome
    return "failed" if stages[1].get("outcome") == "failed" else "passed"


def _message(test: Mapping, status: str) -> str | None:
    stages = [test.get(s) or {} for s in ("setup", "call", "teardown")]
    if status in ("passed", "xpassed"):
        return None
    if status == "skipped":
        for stage in stages:
            if stage.get("outcome") == "skipped":
                return _skip_reason(stage.get("longrepr"))
        return None
    for stage in stages:  # failed / error / xfailed: the first stage that did not pass
        if stage.get("outcome") in ("failed", "skipped") and (
                stage.get("crash") or stage.get("longrepr")):
            return _failure_message(stage)
    return None


def _markers(keywords: Iterable[str], file_part: str, names: list[str], param: str | None,
             report_root: str) -> list[str]:
    """Marker names among a test's pytest keywords.

    pytest's keywords mix marker names with the names of the test's nodes (path components,
    class names, the test name with and without its parameter id), the parameter id, attributes
    of the test function (`pytestmark`, dunders) and the session name (rootdir basename or '').
    Markers are what remains: identifiers, not starting with '_', not 'pytestmark', and not one
    of those node names or parameter ids (nor a '-' part of the id). A marker whose name equals
    a path component, class or parameter id of its own test is therefore not reported.
    """
    drop = {"pytestmark", posixpath.basename(report_root.rstrip("/\\")) if report_root else ""}
    drop.update(p for p in file_part.split("/") if p)
    drop.update(names)
    if param is not None:
        drop.add(f"{names[-1]}[{param}]" if names else param)
        drop.add(param)
        drop.update(param.split("-"))
    return sorted({k for k in keywords
                   if isinstance(k, str) and k.isidentifier() and not k.startswith("_")
                   and k not in drop})


def test_rows(report_path: str, root: str, module_of: Mapping[str, str]) -> list[dict]:
    """analytics.test_catalog rows (without repo/commit) of a pytest-json-report file, their
    test_goid still None (see `resolve_test_goids`).

    - test_id: the node id as pytest wrote it (relative to the report's `root`, the rootdir);
      rel_path: its file part relative to `root`.
    - qualname: `module_of[rel_path]` (the module name core.goids gives the file; None for a
      file the scan does not know) + the `::`-joined names with the parameter id removed
      (`pkg.tests.test_a.TestX.test_y`). A doctest item (`pkg/m.py::pkg.m.C.f`, with
      --doctest-modules) already carries the dotted name: it is the qualname.
    - status: passed | failed | skipped | xfailed | xpassed | error (an exception in setup or
      teardown is 'error'); duration_ms: setup + call + teardown; markers: see `_markers`;
      flaky: a 'flaky' marker, a 'rerun' outcome, or the node id reported more than once;
      message: first line of the crash message / last `E` line of the longrepr, or the skip
      reason; None for passed/xpassed.
    - a collector that failed (import or syntax error in a test file) is an 'error' row, one
      skipped at collection (`pytest.skip(..., allow_module_level=True)`) a 'skipped' row with
      its reason, as pytest's summary counts them: test_id is the collector's node id, kind
      'module' (or 'class'), qualname the module's (or its class's).
    Rows are unique by test_id (the last report entry wins).
    """
    report = load_report(report_path)
    if report is None:
        raise FileNotFoundError(report_path)
    report_root = report.get("root") or root
    rows: dict[str, dict] = {}
    paths = RootPaths(root)

    def locate(file_part: str) -> tuple[str, str | None]:
        rel = paths.rel(os.path.join(report_root, file_part)) if file_part else None
        rel = rel if rel is not None else file_part
        return rel, module_of.get(rel)

    for test in report.get("tests", []):
        nodeid = test["nodeid"]
        file_part, names, param = split_nodeid(nodeid)
        rel, module = locate(file_part)
        base = ".".join(names)
        if module is not None and base:
            qualname = base if base == module or base.startswith(module + ".") \
                else f"{module}.{base}"
        else:
            qualname = base or None
        status = _status(test)
        markers = _markers(test.get("keywords") or [], file_part, names, param, report_root)
        stage_outcomes = [(test.get(s) or {}).get("outcome") for s in ("setup", "call", "teardown")]
        flaky = ("flaky" in markers or "rerun" in stage_outcomes or test.get("outcome") == "rerun"
                 or nodeid in rows)
        duration = sum(float((test.get(s) or {}).get("duration") or 0.0)
                       for s in ("setup", "call", "teardown"))
        rows[nodeid] = {
            "test_id": nodeid, "rel_path": rel, "qualname": qualname, "test_goid": None,
            "kind": "parametrized_case" if param is not None else "function",
            "status": status, "duration_ms": duration * 1000.0,
            "markers": json.dumps(markers), "parametrized": param is not None,
            "flaky": flaky, "message": _message(test, status),
        }
    for collector in report.get("collectors", []):
        outcome = collector.get("outcome")
        if outcome not in ("failed", "skipped"):
            continue
        nodeid = collector.get("nodeid", "")
        file_part, names, _ = split_nodeid(nodeid)
        rel, module = locate(file_part)
        qualname = module if module is not None else None
        if qualname is not None and names:
            qualname = ".".join([qualname, *names])
        longrepr = collector.get("longrepr")
        rows.setdefault(nodeid, {
            "test_id": nodeid, "rel_path": rel, "qualname": qualname, "test_goid": None,
            "kind": "class" if names else "module",
            "status": "error" if outcome == "failed" else "skipped", "duration_ms": 0.0,
            "markers": "[]", "parametrized": False, "flaky": False,
            "message": _longrepr_message(longrepr) if outcome == "failed"
            else _skip_reason(longrepr),
        })
    return list(rows.values())


setattr(test_rows, "__test__", False)  # noqa: B010 - a library function, not a pytest test

# A suite whose collected tests ended in 'error' (setup or collection) more often than this
# share tells nothing about the code: the environment is broken (flask's suite under a pytest
# its fixtures do not support: 425 of 427 errors), yet pytest exits 1 as for failing tests.
# Half is far above what a healthy suite's broken fixtures give and far below a broken run.
ERROR_SHARE = 0.5


def suite_problem(report_path: str, root: str) -> str:
    """Why the suite of a report that exists is no evidence although pytest ran to its end:
    more than ERROR_SHARE of the collected tests (test_rows' rows, failed collectors included)
    ended in 'error', or none passed (nor xpassed); the text names the first error (test id:
    message), else the first test that did not pass. '' for a healthy suite, an empty or a
    missing report (testrun's statuses cover those)."""
    if load_report(report_path) is None:
        return ""
    rows = test_rows(report_path, root, {})
    statuses = Counter(r["status"] for r in rows)
    errors = [r for r in rows if r["status"] == "error"]
    if not rows or (len(errors) <= ERROR_SHARE * len(rows)
                    and statuses["passed"] + statuses["xpassed"]):
        return ""
    if len(errors) > ERROR_SHARE * len(rows):
        what = (f"{len(errors)} of {len(rows)} collected tests ended in error (in setup or "
                f"collection), more than {ERROR_SHARE:.0%}")
    else:
        what = f"none of the {len(rows)} collected tests passed ({dict(statuses)})"
    first = (errors or rows)[0]
    return f"{what}; first {first['status']}: {first['test_id']}: {first['message']}"


class Defined(NamedTuple):
    """A test's defining function in core.goids: its GOID and (module-qualified) qualname."""

    goid: Decimal
    qualname: str


# (class qualname, member name) -> the function the class has under that name along its MRO
# (storage/call_linker.py's Linker.defining), None when no in-repo class of it defines one.
MemberLookup = Callable[[str, str], "tuple[Decimal, str] | None"]


def resolve_test_goids(rows: list[dict], definitions: Iterable[Mapping],
                       inherited: MemberLookup | None = None) -> list[dict]:
    """`rows` with test_goid (and qualname) joined from core.goids `definitions` (rel_path,
    qualname, start_line, goid): the definition of the same file whose qualname, without the
    `#N` of a redefinition, is the test's; of several, the last one (pytest collects the last
    definition of a name, which pysource numbers `name#N`). A test method the file does not
    define (`TestChild::test_x` inherited from `TestBase`, in this file or another) is looked
    up with `inherited(class qualname, name)`: the definition along the class's MRO, and the
    row's qualname becomes that definition's (the class it ran on stays in test_id).
    test_goid is None, and qualname stays, when neither finds it (a file the scan skipped, a
    base outside the repository).
    """
    last: dict[tuple[str, str], Mapping] = {}
    for d in definitions:
        k = (d["rel_path"], d["qualname"].split("#", 1)[0])
        if k not in last or d["start_line"] > last[k]["start_line"]:
            last[k] = d
    out = []
    for row in rows:
        found = _defined(row, last, inherited)
        out.append({**row, "test_goid": found.goid, "qualname": found.qualname}
                   if found else row)
    return out


def _defined(row: Mapping, last: Mapping[tuple[str, str], Mapping],
             inherited: MemberLookup | None) -> Defined | None:
    qualname = row["qualname"]
    if not qualname:
        return None
    match = last.get((row["rel_path"], qualname))
    if match:
        return Defined(match["goid"], match["qualname"])
    owner, _, name = qualname.rpartition(".")
    got = inherited(owner, name) if inherited is not None and owner else None
    return Defined(*got) if got else None

