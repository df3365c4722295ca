"""storage/risk.py on hand-written input rows: every component and the score are recomputed here
from the formulas in the catalog's column descriptions, not read back from the SQL."""

from __future__ import annotations

import json
import math

import pytest

from codeintel_assets.storage import risk
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets.tools import diagnostics

REPO = "acme/shop"


def fm(goid, qualname, cc, cog, lineno=1, end=10, rel="pkg/a.py", bucket="untyped"):
    return ({"goid": goid, "rel_path": rel, "qualname": qualname, "lineno": lineno,
             "end_lineno": end, "loc": end - lineno + 1, "cyclomatic_complexity": cc,
             "cognitive_complexity": cog},
            {"goid": goid, "rel_path": rel, "qualname": qualname, "typedness_bucket": bucket})


def write(gw: StorageGateway, name: str, rows: list[dict]) -> None:
    rows = [{"repo": REPO, "commit": "c" * 40, **r} for r in rows]
    if name == "analytics.diagnostics":  # the category the typing step gives every row
        rows = [{**r, "category": diagnostics.category(r["tool"], r["code"])} for r in rows]
    gw.replace_repo_rows(table(name), REPO, table(name).from_rows(rows))


@pytest.fixture
def gw(tmp_path):
    gateway = StorageGateway(tmp_path / "db.duckdb")
    metrics = [fm(1, "pkg.a.simple", 1, 0, 1, 3, bucket="typed"),
               fm(2, "pkg.a.tangled", 21, 40, 5, 60, bucket="partial"),
               fm(3, "pkg.b.moderate", 11, 15, 1, 20, rel="pkg/b.py"),
               fm(4, "pkg.b.empty", 1, 0, 22, 23, rel="pkg/b.py")]
    write(gateway, "analytics.function_metrics", [m for m, _ in metrics])
    write(gateway, "analytics.function_types", [t for _, t in metrics])
    write(gateway, "analytics.coverage_functions", [
        {"goid": 1, "rel_path": "pkg/a.py", "qualname": "pkg.a.simple", "executable_lines": 2,
         "covered_lines": 2, "coverage_ratio": 1.0, "test_count": 2, "tested": True},
        {"goid": 2, "rel_path": "pkg/a.py", "qualname": "pkg.a.tangled", "executable_lines": 40,
         "covered_lines": 10, "coverage_ratio": 0.25, "test_count": 1, "tested": True},
        {"goid": 3, "rel_path": "pkg/b.py", "qualname": "pkg.b.moderate",
         "executable_lines": 12, "covered_lines": 0, "coverage_ratio": 0.0, "test_count": 0,
         "tested": False, "untested_reason": "not_executed"},
        {"goid": 4, "rel_path": "pkg/b.py", "qualname": "pkg.b.empty", "executable_lines": 0,
         "covered_lines": 0, "test_count": 0, "tested": False,
         "untested_reason": "no_executable_lines"}])
    # A failure is the code's unless its message says the environment lacks a module from
    # outside the repository or a plugin's fixture: test_env and test_fixture are not counted,
    # test_own (a module of the repository's own package is missing) and test_name (a name
    # the repository's own module lacks) are.
    failures = {"t.py::test_bad": "AssertionError: assert 1 == 2",
                "t.py::test_own": "ModuleNotFoundError: No module named 'pkg.gone'",
                "t.py::test_name": "ImportError: cannot import name 'f' from 'pkg.mod'",
                "t.py::test_env": "ModuleNotFoundError: No module named 'hypothesis'",
                "t.py::test_fixture": "fixture 'benchmark' not found"}
    write(gateway, "analytics.test_catalog", [
        {"test_id": "t.py::test_ok", "status": "passed"},
        *({"test_id": t, "status": "error" if "fixture" in m else "failed", "message": m}
          for t, m in failures.items())])
    write(gateway, "analytics.test_coverage_edges", [
        {"test_id": "t.py::test_ok", "goid": 1, "last_status": "passed"},
        {"test_id": "t.py::test_bad", "goid": 1, "last_status": "failed"},
        {"test_id": "t.py::test_own", "goid": 1, "last_status": "failed"},
        {"test_id": "t.py::test_name", "goid": 1, "last_status": "failed"},
        {"test_id": "t.py::test_ok", "goid": 2, "last_status": "passed"},
        {"test_id": "t.py::test_env", "goid": 2, "last_status": "failed"},
        {"test_id": "t.py::test_fixture", "goid": 2, "last_status": "error"}])
    write(gateway, "analytics.hotspots", [
        {"rel_path": "pkg/a.py", "commit_count": 9, "churn": 300, "score": 0.8,
         "history_status": "git"},
        {"rel_path": "pkg/b.py", "commit_count": 1, "churn": 20, "score": 0.1,
         "history_status": "git"}])
    diag = {"tool": "pyright", "rel_path": "pkg/a.py", "col": 0, "code": "x", "occurrence": 1}
    write(gateway, "analytics.diagnostics", [
        {**diag, "line": 7, "severity": "error"}, {**diag, "line": 8, "severity": "error"},
        {**diag, "line": 9, "severity": "warning"},
        {**diag, "tool": "pyrefly", "line": 7, "severity": "error"},  # the same place: once
        {**diag, "line": 70, "severity": "error"}])  # outside every def
    write(gateway, "core.modules", [
        {"module": "pkg.a", "rel_path": "pkg/a.py", "owners": '["@shop/core"]',
         "tags": '["payments"]'}])
    # pkg/b.py is vendored: tagged, scored as any file (the summary leaves it out).
    write(gateway, "core.file_state", [
        {"rel_path": "pkg/a.py", "language": "python", "parse_status": "ok",
         "is_vendored": False},
        {"rel_path": "pkg/b.py", "language": "python", "parse_status": "ok",
         "is_vendored": True, "vendored_reason": "folder named _vendor: pkg/"}])
    # Tags come from the tags' matches, per file (a file core.modules left out keeps its tags).
    write(gateway, "analytics.tags_index", [
        {"tag": "payments", "matches": '["pkg/a.py"]'},
        {"tag": "tests", "matches": '["pkg/b.py", "tests/test_x.py"]'}])
    return gateway


def compute(gw, weights=risk.RiskWeights()) -> dict[int, dict]:
    sql = risk.risk_factors(REPO, weights)
    return {int(r["goid"]): r for r in gw.query(sql.query, sql.params).to_pylist()}


def cx(cyclomatic: int, cognitive: int) -> float:
    """complexity_risk as its column description states it."""
    return max(1 - math.exp(-(cyclomatic - 1) / 15), 1 - math.exp(-cognitive / 22))


def expected_score(parts: dict[str, float | None], w: risk.RiskWeights) -> float:
    known = {c: s for c, s in parts.items() if s is not None}
    return sum(s * getattr(w, c) for c, s in known.items()) / sum(getattr(w, c) for c in known)


def test_components_and_score_match_the_documented_formulas(gw):
    rows, w = compute(gw), risk.RiskWeights()
    assert set(rows) == {1, 2, 3, 4}
    churn = {"pkg/a.py": math.log(301) / math.log(301), "pkg/b.py": math.log(21) / math.log(301)}
    want = {
        1: dict(complexity=0.0, coverage=0.0, typedness=0.0, static_error=0.0,
                churn=churn["pkg/a.py"], hotspot=0.8, failing_test=1.0),
        2: dict(complexity=cx(21, 40), coverage=0.75, typedness=0.5, static_error=0.75,
                churn=churn["pkg/a.py"], hotspot=0.8, failing_test=0.0),
        3: dict(complexity=cx(11, 15), coverage=1.0, typedness=1.0, static_error=0.0,
                churn=churn["pkg/b.py"], hotspot=0.1, failing_test=0.0),
        4: dict(complexity=0.0, coverage=0.0, typedness=1.0, static_error=0.0,
                churn=churn["pkg/b.py"], hotspot=0.1, failing_test=0.0),
    }
    for goid, parts in want.items():
        row = rows[goid]
        for component, score in parts.items():
            assert row[f"{component}_risk"] == pytest.approx(score), (goid, component)
        assert row["risk_score"] == pytest.approx(expected_score(parts, w)), goid
    assert rows[2]["static_errors"] == 2
    assert (rows[1]["covering_tests"], rows[1]["failing_tests"],
            rows[1]["environment_failing_tests"]) == (4, 3, 0)
    assert (rows[2]["covering_tests"], rows[2]["failing_tests"],
            rows[2]["environment_failing_tests"]) == (3, 0, 2)
    detail = {d["component"]: d["detail"]
              for d in json.loads(rows[1]["risk_explanation"])["drivers"]}
    assert detail["failing_test"] == "3 of 4 covering tests fail"
    assert json.loads(rows[2]["owners"]) == ["@shop/core"]
    assert json.loads(rows[3]["owners"]) == []
    assert [g for g, r in rows.items() if r["is_test"]] == [3, 4]  # pkg/b.py is tagged tests
    assert [g for g, r in rows.items() if r["is_vendored"]] == [3, 4]
    # 2 is the riskiest: high; the levels follow the default thresholds
    levels = {g: r["risk_level"] for g, r in rows.items()}
    assert levels[2] == "high" and levels[4] == "low"
    for g, r in rows.items():
        s = r["risk_score"]
        assert levels[g] == ("high" if s >= w.high else "medium" if s >= w.medium else "low")


def test_explanation_names_the_drivers_largest_first(gw):
    row = compute(gw)[2]
    explanation = json.loads(row["risk_explanation"])
    drivers = explanation["drivers"]
    contributions = [d["contribution"] for d in drivers]
    assert contributions == sorted(contributions, reverse=True)
    assert drivers[0]["component"] == "complexity"
    assert drivers[0]["detail"] == "cyclomatic 21, cognitive 40"
    assert sum(contributions) == pytest.approx(row["risk_score"], abs=1e-3)
    assert "failing_test" not in {d["component"] for d in drivers}  # contributes 0
    assert explanation["unknown"] == [] and explanation["unknown_reasons"] == {}


def test_without_a_test_run_coverage_is_unknown_not_zero(gw):
    write(gw, "analytics.coverage_functions", [])
    write(gw, "analytics.test_coverage_edges", [])
    rows, w = compute(gw), risk.RiskWeights()
    row = rows[3]
    assert row["coverage_risk"] is None and row["failing_test_risk"] is None
    assert row["untested_reason"] == "no_coverage_data"
    parts = dict(complexity=cx(11, 15), typedness=1.0, static_error=0.0, hotspot=0.1,
                 churn=math.log(21) / math.log(301))
    assert row["risk_score"] == pytest.approx(expected_score(parts, w))
    explanation = json.loads(row["risk_explanation"])
    assert explanation["unknown"] == ["coverage", "failing_test"]
    assert explanation["unknown_reasons"] == {"coverage": "untested (no_coverage_data)",
                                              "failing_test": "no test run"}


def _history_unknown_explanation(gw) -> dict:
    """Function 2's risk with churn and hotspot unknown: both components NULL and the score
    the weighted mean of the others; returns its risk_explanation."""
    rows, w = compute(gw), risk.RiskWeights()
    row = rows[2]
    assert row["churn_risk"] is None and row["hotspot_risk"] is None
    parts = dict(complexity=cx(21, 40), coverage=0.75, typedness=0.5, static_error=0.75,
                 failing_test=0.0)
    assert row["risk_score"] == pytest.approx(expected_score(parts, w))
    return json.loads(row["risk_explanation"])


@pytest.mark.parametrize("status", ["no_git", "git_refused", "submodule"])
def test_without_history_churn_and_hotspot_are_unknown(gw, status):
    """No Git, git refusing the repository, or a submodule's file: unknown, not zero."""
    write(gw, "analytics.hotspots", [
        {"rel_path": p, "commit_count": 0, "churn": 0, "score": 0.0, "history_status": status}
        for p in ("pkg/a.py", "pkg/b.py")])
    explanation = _history_unknown_explanation(gw)
    assert explanation["unknown"] == ["churn", "hotspot"]
    assert explanation["unknown_reasons"] == {
        "churn": f"history not read ({status})", "hotspot": f"history not read ({status})"}


def test_with_one_commit_churn_and_hotspot_are_unknown_not_maximal(gw):
    """A repository of one commit: every file changed once, its churn its size and its hotspot
    score 1.00 (as analytics.hotspots has it). That says nothing about change: unknown."""
    write(gw, "analytics.hotspots", [
        {"rel_path": p, "commit_count": 1, "churn": n, "score": 1.0, "history_status": "git"}
        for p, n in (("pkg/a.py", 60), ("pkg/b.py", 23))])
    explanation = _history_unknown_explanation(gw)
    assert explanation["unknown"] == ["churn", "hotspot"]
    reason = "too little history: no file changed in more than 1 commit"
    assert explanation["unknown_reasons"] == {"churn": reason, "hotspot": reason}
    assert not {"churn", "hotspot"} & {d["component"] for d in explanation["drivers"]}
    # A second commit to one file makes history evidence again, for every file.
    write(gw, "analytics.hotspots", [
        {"rel_path": p, "commit_count": c, "churn": n, "score": s, "history_status": "git"}
        for p, c, n, s in (("pkg/a.py", 2, 70, 1.0), ("pkg/b.py", 1, 23, 0.4))])
    rows = compute(gw)
    assert rows[3]["hotspot_risk"] == pytest.approx(0.4)
    assert json.loads(rows[3]["risk_explanation"])["unknown"] == []


def test_weights_are_configurable_and_checked(gw):
    only_typing = risk.RiskWeights(complexity=0, coverage=0, static_error=0, churn=0,
                                   hotspot=0, failing_test=0, typedness=1)
    rows = compute(gw, only_typing)
    assert {g: r["risk_score"] for g, r in rows.items()} == {1: 0.0, 2: 0.5, 3: 1.0, 4: 1.0}
    with pytest.raises(ValueError, match="weights"):
        risk.RiskWeights(complexity=-1)
    with pytest.raises(ValueError, match="thresholds"):
        risk.RiskWeights(high=0.2, medium=0.4)


def test_function_layer_views_have_their_declared_columns(gw):
    """The three views over these tables: created through the gateway (which checks names and
    types against the declaration) and joined as documented."""
    from codeintel_assets.storage.gateway import conform
    from codeintel_assets.storage.views import view

    sql = risk.risk_factors(REPO)
    gw.replace_repo_rows(table(risk.RISK_TABLE), REPO,
                         conform(table(risk.RISK_TABLE), gw.query(sql.query, sql.params)))
    write(gw, "analytics.test_catalog", [
        {"test_id": "t.py::test_bad", "rel_path": "t.py", "qualname": "t.test_bad",
         "status": "failed", "duration_ms": 3.0}])
    write(gw, "analytics.coverage_lines", [
        {"rel_path": "pkg/a.py", "line": n, "is_executable": True, "is_covered": n < 4}
        for n in range(1, 5)])
    for name in ("core.ast_metrics", "analytics.static_diagnostics", "analytics.typedness"):
        write(gw, name, [])
    for name in ("docs.v_function_summary", "docs.v_test_to_function", "docs.v_file_summary"):
        gw.replace_view(view(name))
    summary = gw.query("SELECT goid, risk_level, complexity_bucket FROM docs.v_function_summary "
                       "ORDER BY risk_score DESC").to_pylist()
    assert [int(r["goid"]) for r in summary][0] == 2 and len(summary) == 4
    edges = gw.query("SELECT test_id, goid, test_status FROM docs.v_test_to_function "
                     "ORDER BY ALL").to_pylist()
    assert [(r["test_id"], int(r["goid"]), r["test_status"]) for r in edges] == [
        ("t.py::test_bad", 1, "failed"), ("t.py::test_env", 2, "failed"),
        ("t.py::test_fixture", 2, "error"), ("t.py::test_name", 1, "failed"),
        ("t.py::test_ok", 1, "passed"),
        ("t.py::test_ok", 2, "passed"), ("t.py::test_own", 1, "failed")]
    files = {r["rel_path"]: r for r in gw.query("SELECT * FROM docs.v_file_summary").to_pylist()}
    assert files["pkg/a.py"]["coverage_ratio"] == pytest.approx(0.75)
    assert files["pkg/a.py"]["functions"] == 2 and files["pkg/a.py"]["high_risk_functions"] == 1
    assert files["pkg/a.py"]["owners"] is not None and files["pkg/b.py"]["coverage_ratio"] is None


SOURCE = '''\
def branchy(x, y):
    if x:
        for i in range(y):
            if i % 2 and x > i:
                y += 1
            elif i > 3:
                y -= 1
    while y > 100:
        y //= 2
    return y


def plain(a: int) -> int:
    return a
'''


def test_risk_step_in_a_real_run_takes_its_weights_from_run_config(tmp_path):
    """The whole graph on a Git repository (no external tools: no test run, so coverage is
    unknown), then risk_factors again with the launchpad's `ops: risk_factors: config:`."""
    from codeintel_assets import run
    from codeintel_assets_tests.conftest import make_git_repo, rows

    repo = make_git_repo(tmp_path / "shop", {"shop/__init__.py": "", "shop/calc.py": SOURCE,
                                             "tests/test_calc.py": "def test_x():\n    pass\n"})
    db = tmp_path / "wh.duckdb"
    assert run.materialize("*", target=str(repo), db=str(db), tools=[], console_log=False).success
    query = ("SELECT qualname, risk_score, complexity_risk, typedness_risk, is_test, "
             "risk_explanation FROM analytics.goid_risk_factors ORDER BY qualname")
    found = {r[0]: r[1:] for r in rows(db, query)}
    assert set(found) == {"shop.calc.branchy", "shop.calc.plain", "test_calc.test_x"}
    assert found["shop.calc.branchy"][0] > found["shop.calc.plain"][0]
    assert found["test_calc.test_x"][3] is True and found["shop.calc.plain"][3] is False
    # make_git_repo makes one commit: too little history for churn and hotspot
    assert json.loads(found["shop.calc.plain"][4])["unknown"] == [
        "coverage", "churn", "hotspot", "failing_test"]

    only_typing = {c: 0.0 for c in risk.COMPONENTS} | {"typedness": 1.0}
    again = run.materialize("analytics/goid_risk_factors", target=str(repo), db=str(db),
                            tools=[], console_log=False,
                            step_config={"risk_factors": only_typing})
    assert again.success
    for _, score, _, typedness, _, _ in rows(db, query):
        assert score == pytest.approx(typedness)
    (event,) = again.get_asset_materialization_events()
    assert event.materialization.metadata["weights"].value["typedness"] == 1.0

    bad = run.materialize("analytics/goid_risk_factors", target=str(repo), db=str(db),
                          tools=[], console_log=False, raise_on_error=False,
                          step_config={"risk_factors": {"high": 0.2, "medium": 0.4}})
    assert not bad.success
    failure = next(e for e in bad.all_events if e.is_step_failure)
    assert "thresholds" in str(failure.event_specific_data.error)
    # The failed run left the table as the previous run wrote it.
    assert all(score == pytest.approx(typedness) for _, score, _, typedness, _, _ in rows(db, query))


def test_style_findings_are_not_errors(gw):
    """ruff's style and modernisation rules (rich's Style.__init__ had 24 UP045 `Optional[X]`
    findings ranked as static errors) add nothing; its lint rules and the type checkers do."""
    diag = {"rel_path": "pkg/b.py", "col": 4, "occurrence": 1, "severity": "error"}
    write(gw, "analytics.diagnostics", [
        *({**diag, "tool": "ruff", "code": code, "line": n} for n, code in enumerate(
            ("UP045", "UP006", "E501", "W291", "I001", "D103", "N802", "ANN001", "Q000"), 2)),
        {**diag, "tool": "ruff", "code": "F821", "line": 15},
        {**diag, "tool": "ruff", "code": "E711", "line": 16},
        {**diag, "tool": "pyright", "code": "reportCallIssue", "line": 17},
        {**diag, "tool": "pyrefly", "code": "bad-argument-type", "line": 17},  # same place
        {**diag, "tool": "ruff", "code": "UP045", "line": 22}])  # pkg.b.empty: style only
    rows = compute(gw)
    assert rows[3]["static_errors"] == 3
    assert rows[3]["static_error_risk"] == pytest.approx(1 - 0.5 ** 3)
    detail = {d["component"]: d["detail"]
              for d in json.loads(rows[3]["risk_explanation"])["drivers"]}
    assert detail["static_error"] == "1 type errors, 2 lint errors (9 style findings not counted)"
    assert rows[4]["static_errors"] == 0 and rows[4]["static_error_risk"] == 0.0
    # A nested def owns its lines: pkg.b.moderate's errors on 16-17 move to it, counted once.
    metrics = [fm(1, "pkg.a.simple", 1, 0, 1, 3, bucket="typed"),
               fm(2, "pkg.a.tangled", 21, 40, 5, 60, bucket="partial"),
               fm(3, "pkg.b.moderate", 11, 15, 1, 20, rel="pkg/b.py"),
               fm(4, "pkg.b.empty", 1, 0, 22, 23, rel="pkg/b.py"),
               fm(5, "pkg.b.moderate.<locals>.inner", 1, 0, 16, 18, rel="pkg/b.py")]
    write(gw, "analytics.function_metrics", [m for m, _ in metrics])
    write(gw, "analytics.function_types", [t for _, t in metrics])
    rows = compute(gw)
    assert (rows[3]["static_errors"], rows[5]["static_errors"]) == (1, 2)
