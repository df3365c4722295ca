"""The target's own environment: its tests and the type checkers' imports use its interpreter;
what the target breaks is data (a green run, a failing WARN check, the reason in metadata).

Real everything: a target with its own venv made by `python -m venv` holding a pinned package
(tomli-w 1.2.0) that this project's venv does not have, real pytest/coverage through the
plugin overlay, real pyright/pyrefly/ruff, in-process Dagster runs on temp Git repositories.
"""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.defs.resources import ToolService
from codeintel_assets.tools import environment
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets.tools.service import CONFIG_ERROR
from codeintel_assets_tests.conftest import SAMPLE_FILES, make_git_repo

PINNED = "tomli-w==1.2.0"
NO_TOOLS_BUT_TESTS = ["tests"]

VENV_FILES = {
    "pyproject.toml": '[project]\nname = "writer"\n',
    "writer.py": "import tomli_w\n\n\ndef dump(data: dict) -> str:\n"
                 "    return tomli_w.dumps(data)\n\n\ndef unused() -> int:\n    return 1\n",
    "tests/test_writer.py": "from writer import dump\n\n\ndef test_dump():\n"
                            "    assert dump({'a': 1}) == 'a = 1\\n'\n",
}


def q(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def checks(result) -> dict[str, tuple[bool, dict]]:
    out = {}
    for e in result.all_events:
        if e.event_type_value == "ASSET_CHECK_EVALUATION":
            data = e.event_specific_data
            out[f"{'/'.join(data.asset_key.path)}:{data.asset_check_key.name}"] = (
                data.passed, {k: v.value for k, v in data.metadata.items()})
    return out


def step_metadata(result, table: str) -> dict:
    [mat] = [m for m in result.asset_materializations_for_node(_step_of(result, table))
             if "/".join(m.asset_key.path) == table]
    return {k: v.value for k, v in mat.metadata.items()}


def _step_of(result, table: str) -> str:
    for e in result.all_events:
        if e.event_type_value == "ASSET_MATERIALIZATION" and \
                "/".join(e.event_specific_data.materialization.asset_key.path) == table:
            return e.node_handle.name
    raise AssertionError(f"{table} was not materialized")


@pytest.fixture(scope="module")
def venv_repo(tmp_path_factory):
    """A target whose suite passes only with its own .venv (tomli-w is installed only there)."""
    repo = make_git_repo(tmp_path_factory.mktemp("venv") / "writer", VENV_FILES)
    (repo / ".git" / "info" / "exclude").write_text(".venv/\n")
    subprocess.run([sys.executable, "-m", "venv", str(repo / ".venv")], check=True)
    subprocess.run([str(repo / ".venv" / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", PINNED], check=True)
    return repo


def test_resolve_python_prefers_the_targets_venv(venv_repo, tmp_path):
    found = environment.resolve_python(ToolRunner(), str(venv_repo))
    assert found.executable == str(venv_repo / ".venv" / "bin" / "python")
    assert ".venv" in found.reason and not found.is_own and not found.has_pytest
    own = environment.resolve_python(ToolRunner(), str(tmp_path))
    assert own.is_own and own.executable == sys.executable and "own" in own.reason
    configured = environment.resolve_python(ToolRunner(), str(venv_repo), sys.executable)
    assert configured.is_own and "configured" in configured.reason


def test_the_targets_venv_runs_its_tests_and_resolves_its_imports(venv_repo, tmp_path):
    db = tmp_path / "w.duckdb"
    result = run.materialize("*", target=str(venv_repo), db=str(db),
                             tools=["pyright", "pyrefly", "ruff", "tests"])
    assert result.success
    statuses = q(db, "SELECT test_id, status FROM analytics.test_catalog")
    assert statuses == [("tests/test_writer.py::test_dump", "passed")]
    covered = q(db, "SELECT line FROM analytics.coverage_lines "
                    "WHERE rel_path = 'writer.py' AND is_covered ORDER BY line")
    assert [5] in [[line] for (line,) in covered] and len(covered) >= 3
    missing = q(db, "SELECT tool, code, message FROM analytics.diagnostics "
                    "WHERE code IN ('reportMissingImports', 'missing-import', "
                    "'reportMissingModuleSource')")
    assert missing == []
    meta = step_metadata(result, "analytics/test_catalog")
    assert meta["target_python"] == str(venv_repo / ".venv" / "bin" / "python")
    assert meta["status"] == "completed"
    assert step_metadata(result, "analytics/diagnostics")["target_python_reason"].endswith(".venv")
    # Nothing was installed into the target's environment: it still has no pytest.
    assert not environment.resolve_python(ToolRunner(), str(venv_repo)).has_pytest


def test_without_the_venv_the_same_target_breaks_as_data(venv_repo, tmp_path):
    """Our interpreter lacks tomli-w: the run stays green, the suite errors, pyright and pyrefly
    report the unresolved import — which proves the venv was what made the difference."""
    db = tmp_path / "own.duckdb"
    result = run.materialize("*", target=str(venv_repo), db=str(db),
                             tools=["pyright", "pyrefly", "tests"],
                             target_python=sys.executable)
    assert result.success
    assert q(db, "SELECT status FROM analytics.test_catalog") == [("error",)]
    tools = {t for (t,) in q(db, "SELECT DISTINCT tool FROM analytics.diagnostics WHERE code IN "
                                 "('reportMissingImports', 'missing-import')")}
    assert tools == {"pyright", "pyrefly"}


def test_src_layout_without_a_venv_imports_through_its_source_roots(tmp_path):
    files = {k: v for k, v in SAMPLE_FILES.items() if k.startswith(("src/", "tests/"))}
    repo = make_git_repo(tmp_path / "widgets", files)
    db = tmp_path / "w.duckdb"
    result = run.materialize("*", target=str(repo), db=str(db), tools=NO_TOOLS_BUT_TESTS)
    assert result.success
    assert q(db, "SELECT test_id, status FROM analytics.test_catalog") == [
        ("tests/test_core.py::test_widget", "passed")]
    assert q(db, "SELECT count(*) FROM analytics.coverage_lines WHERE is_covered "
                 "AND rel_path = 'src/widgets/core.py'")[0][0] > 5
    assert "own interpreter" in step_metadata(result, "analytics/coverage_lines")[
        "target_python_reason"]


def test_a_conftest_that_crashes_pytest_is_a_failing_warn_check(tmp_path):
    repo = make_git_repo(tmp_path / "crash", {
        "conftest.py": "def pytest_configure(config):\n    raise RuntimeError('boom at start')\n",
        "test_a.py": "def test_a():\n    pass\n"})
    db = tmp_path / "c.duckdb"
    result = run.materialize("*", target=str(repo), db=str(db), tools=NO_TOOLS_BUT_TESTS)
    assert result.success  # the run stays green, so automation keeps the rest current
    found = checks(result)
    for table in ("analytics/test_catalog", "analytics/coverage_lines"):
        passed, meta = found[f"{table}:test_run_completed"]
        assert not passed and meta["status"] == "crashed" and "boom at start" in meta["reason"]
    assert q(db, "SELECT count(*) FROM analytics.test_catalog") == [(0,)]
    assert "boom at start" in step_metadata(result, "analytics/test_catalog")["reason"]


def test_invalid_tool_configs_are_the_targets_failure(tmp_path):
    """ruff on an invalid pyproject.toml still lints with its defaults; pyright and pyrefly
    refusing their configuration give config_error, not an exception."""
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "a.py").write_text("import os\n")
    (root / "pyproject.toml").write_text("[project\nname = 'x'\n")
    (root / "pyrightconfig.json").write_text("{ not json")
    (root / "pyrefly.toml").write_text("project-includes = 5\n")
    service = ToolService()
    python = service.target_python(str(root))
    ruff_run = service.ruff_diagnostics(str(root), ["a.py"])
    assert ruff_run.status == CONFIG_ERROR and "pyproject.toml" in ruff_run.reason
    assert "--isolated" in ruff_run.fallback and [r["code"] for r in ruff_run.rows] == ["F401"]
    for tool_run in (service.pyright_diagnostics(str(root), ["a.py"], python),
                     service.pyrefly_diagnostics(str(root), ["a.py"], python)):
        assert tool_run.status == CONFIG_ERROR and not tool_run.completed, tool_run
        assert "configuration" in tool_run.reason


def test_overlay_is_built_once_and_outside_the_target(venv_repo, tmp_path, monkeypatch):
    monkeypatch.setenv(environment.CACHE_ENV, str(tmp_path / "cache"))
    python = environment.resolve_python(ToolRunner(), str(venv_repo))
    first = environment.plugin_overlay(ToolRunner(), python)
    assert len(first) == 2  # the plugins, and pytest (the venv has none)
    assert all(p.startswith(str(tmp_path / "cache")) for p in first)
    assert os.path.isdir(os.path.join(first[0], "pytest_cov"))
    stamp = os.stat(first[0]).st_mtime_ns
    assert environment.plugin_overlay(ToolRunner(), python) == first
    assert os.stat(first[0]).st_mtime_ns == stamp
