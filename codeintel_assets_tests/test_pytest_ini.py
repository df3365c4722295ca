"""tools/pytest_ini: the target's pytest addopts as pytest finds them, and the parallelism the
test run keeps of them; a real run with the suite's `-n 2` equals a serial run row for row."""

from __future__ import annotations

from pathlib import Path

from codeintel_assets.defs.resources import ToolService
from codeintel_assets.tools.pytest_ini import addopts, declared_xdist, xdist_args
from codeintel_assets_tests.conftest import write_files
from codeintel_assets_tests.test_testimpact import effective

TOOLS = ToolService(enabled=["tests"], test_timeout_s=120)


def test_the_file_pytest_uses_gives_the_addopts(tmp_path):
    write_files(tmp_path, {"tox.ini": "[tox]\nenvlist = py\n",  # no [pytest]: not pytest's
                           "setup.cfg": "[tool:pytest]\naddopts = -n 3\n"})
    assert addopts(str(tmp_path)) == ["-n", "3"]
    write_files(tmp_path, {"pyproject.toml": "[tool.pytest.ini_options]\n"
                           "addopts = \"-ra --dist 'loadfile'\"\n"})
    assert addopts(str(tmp_path)) == ["-ra", "--dist", "loadfile"]
    write_files(tmp_path, {"pyproject.toml": "[tool.pytest]\naddopts = ['-n', 'auto']\n"})
    assert addopts(str(tmp_path)) == ["-n", "auto"]  # pytest 9's native table: a list
    write_files(tmp_path, {"pytest.ini": "[pytest]\nmarkers = slow\n"})  # first, even without
    assert addopts(str(tmp_path)) == []
    assert addopts(str(tmp_path / "missing")) == []


def test_xdist_options_in_every_spelling():
    assert xdist_args(["-x", "-n", "2", "--dist", "loadfile", "--cov=pkg"]) == \
        ["--numprocesses=2", "--dist=loadfile"]
    assert xdist_args(["-nauto", "--maxprocesses=4", "--numprocesses=3"]) == \
        ["--numprocesses=3", "--maxprocesses=4"]  # the later -n wins, as in pytest
    assert xdist_args(["-ra", "--durations=20", "-n"]) == []  # no value: nothing kept
    assert xdist_args(["--no-header", "-nx"]) == ["--numprocesses=x"]  # xdist judges it
    assert xdist_args(["-n=2"]) == ["--numprocesses=2"]


def test_no_xdist_in_the_runs_own_arguments_keeps_the_run_serial(tmp_path):
    write_files(tmp_path, {"pytest.ini": "[pytest]\naddopts = -n 2\n"})
    installed = ["pytest-xdist==3.8.0"]
    assert declared_xdist(str(tmp_path), [], lambda: installed) == ["--numprocesses=2"]
    assert declared_xdist(str(tmp_path), ["-p", "no:xdist"], lambda: installed) == []
    assert declared_xdist(str(tmp_path), [], lambda: ["pytest==9.2.0"]) == []


SUITE = {
    "pkg/__init__.py": "",
    "pkg/m.py": "def f(x):\n    if x > 2:\n        return x\n    return -x\n\n\n"
                "def g():\n    return f(5)\n",
    "tests/test_a.py": "from pkg.m import f\n\n\ndef test_small():\n    assert f(1) == -1\n\n\n"
                       "def test_fails():\n    assert f(0) == 1\n",
    "tests/test_b.py": "import pytest\n\nfrom pkg.m import g\n\n\n"
                       "@pytest.mark.parametrize('n', [1, 2])\ndef test_g(n):\n    assert g() == 5\n",
}


def _run(root: Path, ini: str):
    write_files(root, {**SUITE, "pytest.ini": ini})
    python = TOOLS.target_python(str(root))
    run = TOOLS.test_run(str(root), str(root.parent / f"work-{root.name}"), python, [""])
    return run, effective(run, root)


def test_the_suites_declared_workers_give_the_serial_runs_rows(tmp_path):
    parallel, parallel_rows = _run(tmp_path / "parallel", "[pytest]\naddopts = -x -n 2\n")
    serial, serial_rows = _run(tmp_path / "serial", "[pytest]\naddopts = -x\n")
    assert "--numprocesses=2" in parallel.argv and "--numprocesses=2" not in serial.argv
    assert parallel.completed and parallel.tests_executed == serial.tests_executed == 4
    # -x dropped with the rest of the addopts: the failure does not stop either run; per-test
    # contexts (pytest-cov in each worker) and the report (pytest-json-report) equal serial's.
    assert parallel_rows == serial_rows
    lines, tests = parallel_rows
    assert {t["test_id"]: t["status"] for t in tests}["tests/test_a.py::test_fails"] == "failed"
    assert any("tests/test_b.py::test_g[2]" in (r["contexts"] or "") for r in lines)
