"""Test results a user can trust: the test-run key follows what the target's interpreter has
installed, `--full` and `--rerun-tests` never reuse a run, a suite whose tests mostly error in
setup fails its WARN check naming the first error, and `--skip-tool tests` says what it means.

Real everything: a target venv made by `python -m venv` with a local distribution installed
from a wheel built here (no network), real pytest through the plugin overlay, in-process
Dagster runs of coverage_ingest/tests_ingest and what they read, on temp Git repositories.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import dagster as dg

from codeintel_assets import cli, run
from codeintel_assets.tools.pytest_report import suite_problem
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets.tools.testrun import COMPLETED, run_tests
from codeintel_assets_tests.conftest import make_git_repo, rows

TEST_TABLES = ("analytics/coverage_lines", "analytics/test_catalog")


def test_steps(repo: Path, tools: list[str] | None = None, **config):
    """coverage_ingest and tests_ingest with what they read, in-process; `config` goes to
    run.run_config (tool_config, full_rebuild). Returns (materialization metadata per table,
    (passed, metadata) of test_run_completed per table, the run's warning messages)."""
    defs = run.definitions()
    keys = dg.AssetSelection.assets(*(dg.AssetKey(t.split("/")) for t in TEST_TABLES)) \
        .upstream().resolve(defs.resolve_asset_graph())
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        run_config=run.run_config(str(repo), tools=tools, **config), instance=instance,
        asset_selection=list(keys))
    assert result.success
    meta = {e.asset_key.to_user_string(): {k: v.value for k, v in
                                           e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}
    checks = {"/".join(c.asset_key.path): (c.passed, {k: v.value for k, v in c.metadata.items()})
              for c in result.get_asset_check_evaluations()
              if c.check_name == "test_run_completed"}
    warnings = [e.user_message for e in instance.all_logs(result.run_id)
                if e.level == "WARNING" or e.level == 30]
    return meta, checks, warnings


setattr(test_steps, "__test__", False)  # noqa: B010 - a helper, not a test


def suite_runs(meta) -> int:
    """Steps of the run that ran the suite (0: both reused an earlier run of the key)."""
    return sum(meta[t]["test_run_reused"] is False for t in TEST_TABLES)


def wheel(folder: Path, version: str) -> Path:
    """A pure-Python wheel of distribution `localdist` at `version` (module localdist with
    VERSION = `version`), written by hand so pip installs it without an index."""
    name = f"localdist-{version}"
    files = {"localdist.py": f"VERSION = {version!r}\n",
             f"{name}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: localdist\n"
                                            f"Version: {version}\n",
             f"{name}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n"}
    def digest(text: str) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode() \
            .rstrip("=")

    record = [f"{p},sha256={digest(t)},{len(t.encode())}" for p, t in files.items()]
    record.append(f"{name}.dist-info/RECORD,,")
    files[f"{name}.dist-info/RECORD"] = "\n".join(record) + "\n"
    path = folder / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, text in files.items():
            zf.writestr(p, text)
    return path


def pip_install(venv: Path, whl: Path) -> None:
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index",
                    "--no-deps", "--disable-pip-version-check", str(whl)], check=True)


def test_installed_versions_full_and_rerun_decide_reuse(tmp_path):
    repo = make_git_repo(tmp_path / "dist", {
        "pkg/__init__.py": "",
        "tests/test_dist.py": "import localdist\n\n\ndef test_version():\n"
                              "    assert localdist.VERSION == '1.0'\n"})
    (repo / ".git" / "info" / "exclude").write_text(".venv/\n")
    venv = repo / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_install(venv, wheel(tmp_path, "1.0"))
    db = repo / ".codeintel" / "codeintel.duckdb"

    def status():
        return rows(db, "SELECT status FROM analytics.test_catalog")

    meta, _, _ = test_steps(repo)
    assert suite_runs(meta) == 1 and status() == [("passed",)]
    key = meta["analytics/test_catalog"]["test_run_key"]
    meta, _, _ = test_steps(repo)  # nothing changed: reused
    assert suite_runs(meta) == 0 and meta["analytics/test_catalog"]["test_run_key"] == key

    # A new version in the target's venv (nothing in the tree changes, nothing is deleted).
    pip_install(venv, wheel(tmp_path, "2.0"))
    meta, _, _ = test_steps(repo)
    assert suite_runs(meta) == 1 and status() == [("failed",)]
    new_key = meta["analytics/test_catalog"]["test_run_key"]
    assert new_key != key

    # --full never reuses; --rerun-tests re-runs only the tests; both keep the key, so a
    # plain run afterwards reuses the new results.
    for config in ({"full_rebuild": True}, {"tool_config": {"rerun_tests": True}}):
        meta, _, _ = test_steps(repo, **config)
        assert suite_runs(meta) == 1, config
        assert meta["analytics/coverage_lines"]["test_run_key"] == new_key
    meta, _, _ = test_steps(repo)
    assert suite_runs(meta) == 0


SETUP_ERRORS = {
    "pkg/__init__.py": "",
    "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef db():\n"
                         "    raise RuntimeError('database unavailable')\n",
    "tests/test_db.py": "def test_a(db):\n    pass\n\n\ndef test_b(db):\n    pass\n\n\n"
                        "def test_c(db):\n    pass\n\n\ndef test_ok():\n    pass\n",
}


def test_a_suite_that_errors_in_setup_fails_its_check_naming_the_first_error(tmp_path):
    repo = make_git_repo(tmp_path / "broken", SETUP_ERRORS)
    meta, checks, warnings = test_steps(repo, tools=["tests"])
    for table in TEST_TABLES:
        passed, check_meta = checks[table]
        assert meta[table]["status"] == COMPLETED and meta[table]["pytest_exit_code"] == 1
        assert not passed
        problem = check_meta["suite_problem"]
        assert problem.startswith("3 of 4 collected tests ended in error"), problem
        assert problem.endswith("first error: tests/test_db.py::test_a: "
                                "RuntimeError: database unavailable"), problem
    assert any("no evidence" in w and "test_a" in w for w in warnings), warnings


def test_suite_problem_threshold(tmp_path):
    """Half errors or fewer with a test passing is healthy; nothing passing is not."""
    def problem(files: dict[str, str]) -> str:
        root = make_git_repo(tmp_path / str(len(list(tmp_path.iterdir()))), files)
        done = run_tests(ToolRunner(), str(root), sys.executable, str(tmp_path / "w"), 120)
        assert done.status == COMPLETED
        assert done.problem == suite_problem(done.report_path, str(root))
        return done.problem

    half = dict(SETUP_ERRORS, **{"tests/test_db.py": "def test_a(db):\n    pass\n\n\n"
                                 "def test_ok():\n    pass\n"})
    assert problem(half) == ""
    failing = {"tests/test_f.py": "def test_f():\n    assert 0\n"}
    assert problem(failing).startswith("none of the 1 collected tests passed")
    assert "tests/test_f.py::test_f" in problem(failing)


def test_skip_tool_tests_says_what_it_means(tmp_path):
    repo = make_git_repo(tmp_path / "skip", {"pkg/__init__.py": "", "tests/test_a.py":
                                             "def test_a():\n    pass\n"})
    meta, checks, warnings = test_steps(repo, tools=[])
    said = [w for w in warnings if "tests skipped" in w]
    assert len(said) == 2, warnings  # one per table
    for table in TEST_TABLES:
        name = table.replace("/", ".")
        assert [w for w in said if name in w] == [meta[table]["skipped"]]
        assert "--skip-tool tests" in meta[table]["skipped"]
        assert "coverage is unknown downstream" in meta[table]["skipped"]
        assert checks[table][0]


def test_cli_rerun_tests_runs_the_suite_again(tmp_path, monkeypatch):
    monkeypatch.delenv("CODEINTEL_DB", raising=False)
    repo = make_git_repo(tmp_path / "cli", {"pkg/__init__.py": "", "tests/test_a.py":
                                            "def test_a():\n    pass\n"})
    argv = ["materialize", "--target", str(repo), "--select",
            "*analytics/coverage_lines,*analytics/test_catalog",
            *[a for t in ("pyright", "pyrefly", "ruff", "scip") for a in ("--skip-tool", t)]]

    def report_written() -> list[int]:
        return [p.stat().st_mtime_ns for p in (repo / ".codeintel").rglob("report.json")]

    assert cli.main(argv) == 0
    [first] = report_written()
    assert cli.main(argv) == 0
    assert report_written() == [first]  # reused
    assert cli.main([*argv, "--rerun-tests"]) == 0
    [again] = report_written()  # the same key's folder, a new run
    assert again != first
