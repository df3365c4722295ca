"""ToolService: the Dagster resource through which every external program runs.

One typed method per question (pyright, pyrefly and ruff diagnostics, the shared coverage +
pytest run, the SCIP index, git); callers get parsed rows, never raw JSON or argv. Each method
goes through one ToolRunner, which raises ToolNotFoundError (with an install hint) for a missing
executable and ToolExecutionError (argv, exit code, stderr tail) for a timeout or crash. The
per-tool exit-code policy lives in the tool's own module (tools/pyright.py, ...).
"""

import dataclasses
import json
import os
import sys
from pathlib import Path

import dagster as dg
from filelock import FileLock
from pydantic import Field

from codeintel_assets.tools import pyrefly, pyright, ruff, scip, testrun
from codeintel_assets.tools.git import RepoInfo, repo_info
from codeintel_assets.tools.runner import ToolRunner

TOOLS = ("pyright", "pyrefly", "ruff", "tests", "scip")
_BIN = Path(sys.executable).parent


def _bin(name: str) -> str:
    """The executable installed next to this interpreter (the project's venv), else PATH."""
    path = _BIN / name
    return str(path) if path.exists() else name


class ToolDisabledError(RuntimeError):
    """The tool is switched off in ToolService.enabled."""


class ToolService(dg.ConfigurableResource):
    """Runs pyright, pyrefly, ruff, coverage+pytest, scip-python and git for the assets."""

    enabled: list[str] = Field(
        default=list(TOOLS),
        description=f"Tools to run, of {list(TOOLS)}. A disabled tool's tables are written "
        "empty and their metadata says so.",
    )
    timeout_s: float = Field(default=1800, description="Timeout of one tool call, seconds.")
    pyright_path: str = Field(default_factory=lambda: _bin("pyright"))
    pyrefly_path: str = Field(default_factory=lambda: _bin("pyrefly"))
    ruff_path: str = Field(default_factory=lambda: _bin("ruff"))
    test_python: str = Field(
        default=sys.executable,
        description="Interpreter that runs the target's tests (needs pytest, pytest-cov and "
        "pytest-json-report, and the target's own dependencies). RUNNING THE TESTS EXECUTES "
        "THE TARGET'S CODE: remove 'tests' from `enabled` for untrusted repositories.",
    )
    test_timeout_s: float = Field(default=1800, description="Timeout of the test run, seconds.")
    pytest_args: list[str] = Field(default=[], description="Extra pytest arguments.")
    existing_coverage_file: str = Field(
        default="", description="A coverage.py data file (relative to the target) to ingest "
        "instead of running the tests.")
    existing_test_report: str = Field(
        default="", description="A pytest-json-report file (relative to the target) to ingest "
        "instead of running the tests.")
    scip_node_heap_mb: int = Field(default=4096, description="Node heap for scip-python, MiB.")

    def runner(self) -> ToolRunner:
        return ToolRunner(default_timeout_s=self.timeout_s)

    def is_enabled(self, tool: str) -> bool:
        return tool in self.enabled

    def _require(self, tool: str) -> None:
        if not self.is_enabled(tool):
            raise ToolDisabledError(f"{tool} is disabled in ToolService.enabled")

    # ---- static analysis: rows of analytics.diagnostics without repo/commit/occurrence -------

    def pyright_diagnostics(self, root: str, files: list[str]) -> list[dict]:
        self._require("pyright")
        return pyright.run(self.runner(), root, files, self.pyright_path, self.timeout_s)

    def pyrefly_diagnostics(self, root: str, files: list[str]) -> list[dict]:
        self._require("pyrefly")
        return pyrefly.run(self.runner(), root, files, self.pyrefly_path, self.timeout_s)

    def ruff_diagnostics(self, root: str, files: list[str]) -> list[dict]:
        self._require("ruff")
        return ruff.run(self.runner(), root, files, self.ruff_path, self.timeout_s)

    # ---- the shared test run --------------------------------------------------------------

    def test_run(self, root: str, workdir: str) -> "testrun.TestRun":
        """The coverage + pytest run of the target, once per snapshot.

        coverage_ingest and tests_ingest both call this; the first call runs the suite into
        `workdir` (a folder per snapshot) and the second finds its results there, so the suite
        never runs twice. Ingests existing files instead when configured.
        """
        self._require("tests")
        if self.existing_coverage_file or self.existing_test_report:
            return testrun.existing_run(root, self.existing_coverage_file,
                                        self.existing_test_report)
        os.makedirs(workdir, exist_ok=True)
        marker = Path(workdir) / "run.json"
        with FileLock(os.path.join(workdir, ".lock")):
            if marker.exists():
                return testrun.TestRun(**json.loads(marker.read_text()))
            done = testrun.run_tests(self.runner(), root, self.test_python, workdir,
                                     self.test_timeout_s, list(self.pytest_args))
            marker.write_text(json.dumps(dataclasses.asdict(done)))
            return done

    # ---- SCIP ------------------------------------------------------------------------------

    def scip_index(self, root: str, output: str, project_name: str, project_version: str) -> dict:
        """Build the SCIP index of `root` at `output`; a partial index is never returned."""
        self._require("scip")
        return scip.run_index(self.runner(), root, output, project_name, project_version,
                              self.timeout_s, node_heap_mb=self.scip_node_heap_mb)

    # ---- git -------------------------------------------------------------------------------

    def git_info(self, root: str) -> RepoInfo:
        return repo_info(root, self.runner())
