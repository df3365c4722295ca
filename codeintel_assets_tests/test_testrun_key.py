"""The test-run cache key and the automation policy: tools/worktree.py, tools/testcache.py,
ToolService.test_run_key / test_run_refusal, tools/automation.py, and the tool registry. Real Git
repositories in temp folders, real git through the ToolRunner."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
from dagster._core.storage import tags as dagster_tags

from codeintel_assets.defs.resources import ToolService
from codeintel_assets.launch import TRIGGER_TAG
from codeintel_assets.tools import automation, registry, testcache, worktree
from codeintel_assets.tools.environment import TargetPython
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets_tests.conftest import git, make_git_repo, write_files

RUNNER = ToolRunner(default_timeout_s=60)
FILES = {"pkg/__init__.py": "", "tests/test_a.py": "def test_a():\n    assert True\n",
         "tests/conftest.py": "", "tests/data.txt": "ok\n", ".gitignore": "build/\n"}
PROJECT = Path(__file__).resolve().parents[1]


def fp(root: Path, exclude=()) -> worktree.TreeFingerprint:
    return worktree.fingerprint(str(root), RUNNER, exclude)


def edit(path: Path, text: str) -> None:
    """Write `text` and move the mtime on, as a later edit would (same-second edits on coarse
    file systems otherwise keep it)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_git_tree_fingerprint_sees_data_files_conftest_and_untracked(tmp_path):
    repo = make_git_repo(tmp_path / "r", FILES)
    first = fp(repo)
    assert first.method == "git" and first.entries == len(FILES)
    assert fp(repo) == first  # unchanged tree, same key
    edit(repo / "tests/data.txt", "changed\n")
    data_edit = fp(repo)
    assert data_edit.digest != first.digest
    edit(repo / "tests/conftest.py", "import os\n")
    assert fp(repo).digest not in (first.digest, data_edit.digest)
    git(repo, "checkout", "--", ".")  # back to the committed bytes
    assert fp(repo).digest == first.digest
    (repo / "tests/new_data.json").write_text("{}")  # untracked, not ignored
    assert fp(repo).digest != first.digest


def test_git_fingerprint_leaves_out_ignored_venvs_and_the_warehouse(tmp_path):
    repo = make_git_repo(tmp_path / "r", FILES)
    first = fp(repo, exclude=["data/wh"])
    write_files(repo, {"build/out.bin": "x", ".venv/lib/site.py": "x", ".codeintel/x.duckdb": "x",
                       "pkg/__pycache__/m.cpython-312.pyc": "x", "data/wh/testruns/k/run.json": "x"})
    assert fp(repo, exclude=["data/wh"]).digest == first.digest
    assert fp(repo).digest != first.digest  # data/wh counts unless excluded


def test_staged_edit_changes_the_fingerprint(tmp_path):
    repo = make_git_repo(tmp_path / "r", FILES)
    first = fp(repo)
    edit(repo / "tests/data.txt", "staged\n")
    git(repo, "add", "tests/data.txt")
    assert fp(repo).digest != first.digest


def test_walk_fingerprint_outside_git(tmp_path):
    root = tmp_path / "plain"
    write_files(root, FILES)
    first = fp(root)
    assert first.method == "walk" and first.entries == len(FILES)
    write_files(root, {".codeintel/db": "x", "venv/bin/python": "x", ".git/HEAD": "x"})
    assert fp(root) == first
    edit(root / "tests/data.txt", "changed\n")
    assert fp(root).digest != first.digest


def test_subfolder_of_a_checkout_is_walked(tmp_path):
    repo = make_git_repo(tmp_path / "r", {"inner/tests/data.txt": "ok\n"})
    assert fp(repo / "inner").method == "walk"


def python_of(version: str = "3.12.1", executable: str = sys.executable) -> TargetPython:
    return TargetPython(executable, "test", version, sys.prefix, "cpython", True, True)


def test_test_run_key_covers_tree_interpreter_and_pytest_args(tmp_path):
    repo = make_git_repo(tmp_path / "r", FILES)
    other_path = tmp_path / "bin" / "python"  # the same interpreter by another path
    other_path.parent.mkdir()
    other_path.symlink_to(sys.executable)
    service = ToolService()
    key = service.test_run_key(str(repo), python_of(), "snap").digest
    assert service.test_run_key(str(repo), python_of(), "snap").digest == key
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    different = {
        service.test_run_key(str(repo), python_of(), "other-snapshot").digest,
        service.test_run_key(str(repo), python_of("3.13.0"), "snap").digest,
        service.test_run_key(str(repo), python_of(executable=str(other_path)), "snap").digest,
        ToolService(pytest_args=["-k", "a"]).test_run_key(str(repo), python_of(), "snap").digest,
    }
    assert key not in different and len(different) == 4
    edit(repo / "tests/data.txt", "changed\n")
    assert service.test_run_key(str(repo), python_of(), "snap").digest != key


def test_run_folder_pins_the_key_per_run(tmp_path):
    calls = []

    def compute(value):
        return lambda: calls.append(value) or value

    first = testcache.run_folder(str(tmp_path), "run-1", compute("k1"))
    # The second step of the same run keeps the run's key although the tree changed since.
    again = testcache.run_folder(str(tmp_path), "run-1", compute("k2"))
    later = testcache.run_folder(str(tmp_path), "run-2", compute("k2"))
    assert (first, again, later) == (str(tmp_path / "k1"), str(tmp_path / "k1"),
                                     str(tmp_path / "k2"))
    assert calls == ["k1", "k2"]
    for n in range(testcache.KEEP_PINS + 5):
        testcache.run_folder(str(tmp_path), f"more-{n}", compute("k3"))
    pins = [p for p in (tmp_path / testcache.PINS).iterdir() if p.name != ".lock"]
    assert len(pins) == testcache.KEEP_PINS


# ---- who started the run ---------------------------------------------------------------------

def test_automation_tags_are_dagsters():
    assert automation.DAGSTER_AUTOMATION_TAGS == (
        dagster_tags.SENSOR_NAME_TAG, dagster_tags.SCHEDULE_NAME_TAG,
        dagster_tags.AUTOMATION_CONDITION_TAG, dagster_tags.AUTO_MATERIALIZE_TAG)


@pytest.mark.parametrize(("tags", "automated"), [
    ({}, False),
    ({"dagster/backfill": "abc", "codeintel/repo": "acme/x"}, False),  # a person's backfill
    ({TRIGGER_TAG: "cli"}, False),
    ({"dagster/sensor_name": "git_head_sensor"}, True),
    ({"dagster/schedule_name": "nightly"}, True),
    ({"dagster/from_automation_condition": "true"}, True),
    ({"dagster/auto_materialize": "true"}, True),
    ({TRIGGER_TAG: "hook"}, True),
    ({TRIGGER_TAG: "sensor"}, True),
])
def test_launched_by_automation(tags, automated):
    assert automation.launched_by_automation(tags) is automated
    assert bool(automation.automation_source(tags)) is automated


def test_refusal_needs_automation_and_no_opt_in():
    sensor = {"dagster/sensor_name": "git_head_sensor"}
    refusal = ToolService().test_run_refusal(sensor, opted_in=False)
    assert "sensor git_head_sensor" in refusal and "tests_on_push" in refusal
    assert "the Git hook" in ToolService().test_run_refusal({TRIGGER_TAG: "hook"}, False)
    assert ToolService().test_run_refusal(sensor, opted_in=True) == ""
    assert ToolService().test_run_refusal({}, opted_in=False) == ""
    # Ingesting result files the repository already has executes nothing.
    assert ToolService(existing_test_report="r.json").test_run_refusal(sensor, False) == ""


# ---- the registry is the one list of tools -----------------------------------------------------

def test_registry_versions_are_the_installed_pins():
    with open(PROJECT / "pyproject.toml", "rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    pins = dict(re.match(r"([\w\-]+)(?:\[\w+\])?==(\S+)", d).groups() for d in deps if "==" in d)
    for tool in registry.TOOLS:
        for dist, version in tool.versions().items():
            if not dist.startswith("npm:") and dist in pins:
                assert pins[dist] == version, (tool.name, dist)
    assert registry.PYRIGHT.install_hint() == f"pip install 'pyright[nodejs]=={pins['pyright']}'"
    assert re.fullmatch(r"\d+\.\d+\.\d+", registry.SCIP.version())  # package.json's pin


def test_everything_else_derives_from_the_registry():
    from codeintel_assets.defs import static_analysis as defs_tools
    from codeintel_assets.tools import diagnostics, environment, service

    assert service.TOOLS == registry.TOOL_NAMES == ("pyright", "pyrefly", "ruff", "tests", "scip")
    assert ToolService().enabled == list(registry.TOOL_NAMES)
    assert defs_tools.STATIC_TOOLS == diagnostics.TOOLS == ("pyright", "pyrefly", "ruff")
    assert (environment.PYTEST_DISTRIBUTION, *environment.PLUGIN_DISTRIBUTIONS) == \
        registry.TESTS.distributions
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    (row,) = [ln for ln in readme.splitlines() if ln.startswith("| `tools.enabled`")]
    assert row.rstrip(" |").endswith(", ".join(registry.TOOL_NAMES))
