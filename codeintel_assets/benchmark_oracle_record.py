"""The runtime half of the call oracle (benchmark_oracle.py): run a project's test suite under
the profiler and read back the caller -> callee pairs it recorded.

Nothing is written inside the target tree: the tree is copied into the work folder (without
.git, virtual environments and caches) and the suite runs there, in a virtual environment made
in the work folder (`make_venv`: the copy installed editable, with its declared test
requirements, tools/test_requirements.py) or in an interpreter given by the caller (the copy is
then put first on PYTHONPATH). The recorder is tools/pytest_plugins/codeintel_oracle.py, loaded
with `-p codeintel_oracle` from that folder on PYTHONPATH; see it for what a record is. Every
program runs through the ToolRunner. Failing tests are data, not errors: pytest's exit codes
0 (all passed) and 1 (some failed) are both a run; others raise ToolExecutionError.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets.tools.test_requirements import declared
from codeintel_assets.tools.testimpact import PLUGIN_DIR

PLUGIN = "codeintel_oracle"
# Folders of a checkout that are not its code, and left out of the copy the suite runs in.
NOT_COPIED = (".git", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__",
              ".pytest_cache", ".mypy_cache", ".ruff_cache")
TEST_DIRS = ("tests", "test", "testing")
CO_OPTIMIZED = 0x1  # function code; unset for module and class bodies
CO_GENERATOR_LIKE = 0x20 | 0x80 | 0x200  # generator, coroutine, async generator
INSTALL_TIMEOUT_S = 1800.0
SUMMARY = "pytest-summary.txt"


@dataclass(frozen=True, order=True)
class CodeRef:
    """A code object of the project: `path` relative to the tree's root (/-separated),
    co_qualname, co_firstlineno (a decorated def's first decorator line), co_flags, co_name."""

    path: str
    qualname: str
    first_line: int
    flags: int
    name: str

    @property
    def is_function(self) -> bool:
        """A def's (or lambda's, comprehension's) code; False for module and class bodies."""
        return bool(self.flags & CO_OPTIMIZED)

    @property
    def is_generator(self) -> bool:
        """A generator, coroutine or async generator body."""
        return bool(self.flags & CO_GENERATOR_LIKE)


@dataclass(frozen=True, order=True)
class RuntimeCall:
    """One distinct recorded call: `caller` was at `line` when `callee`'s frame started; `via`
    says frames of code outside the repository (a builtin's callback, contextlib, functools)
    stood between them."""

    caller: CodeRef
    line: int
    callee: CodeRef
    via: bool


def default_sources(root: Path) -> list[Path]:
    """The project's own code: `src/` if there is one, else each top-level package (a folder
    with __init__.py) that is not a test folder (tests, test, testing, test_*, *_tests)."""
    if (root / "src").is_dir():
        return [root / "src"]
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
                  and p.name not in TEST_DIRS and not p.name.startswith("test_")
                  and not p.name.endswith("_tests"))


def copy_tree(root: Path, dest: Path) -> Path:
    """`root` copied to `dest` without NOT_COPIED folders (a copy left by an earlier run in
    the same work folder is replaced); `dest`."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(root, dest, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    return dest


def make_venv(tree: Path, venv: Path, extras: str = "", extra: tuple[str, ...] = (),
              runner: ToolRunner | None = None) -> Path:
    """A virtual environment at `venv` with `tree` installed editable (`extras`, e.g. "d",
    in brackets), its declared test requirements (the first declaration of each), pytest and
    `extra` requirements; its python. Raises ToolExecutionError when pip fails."""
    runner = runner or ToolRunner(default_timeout_s=INSTALL_TIMEOUT_S)
    runner.run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    version = runner.run([str(python), "-c", "import platform;print(platform.python_version())"]
                         ).stdout.strip()
    # the first declaration of each distribution: click's requirements/tests.txt and
    # tests37.txt pin the same packages at versions pip cannot install together
    first: dict[str, str] = {}
    for d in declared(str(tree), version):
        first.setdefault(canonicalize_name(Requirement(d.requirement).name), d.requirement)
    requirements = list(first.values())
    target = f"{tree}[{extras}]" if extras else str(tree)
    runner.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                "-e", target, "pytest", *requirements, *extra])
    return python


def run_suite(python: Path, tree: Path, sources: list[Path], out: Path,
              pytest_args: tuple[str, ...] = (), timeout_s: float = 7200.0,
              on_path: bool = False) -> list[RuntimeCall]:
    """Run pytest of `python` in `tree` under the recorder (its traces go to `out`, pytest's
    closing line to `out/pytest-summary.txt`), and read them back, paths relative to `tree`. `on_path` puts `tree` first on PYTHONPATH (for an
    interpreter that does not have the copy installed). Raises ToolExecutionError when pytest
    exits other than 0 or 1, FileNotFoundError when no trace was written."""
    shutil.rmtree(out, ignore_errors=True)  # an earlier run's traces would mix with these
    out.mkdir(parents=True)
    settings = {"repo": str(tree), "sources": [str(s) for s in sources], "out": str(out)}
    path = [PLUGIN_DIR, *([str(tree)] if on_path else []), os.environ.get("PYTHONPATH", "")]
    env = {"CODEINTEL_ORACLE": json.dumps(settings),
           "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    done = ToolRunner(default_timeout_s=timeout_s).run(
        [os.path.abspath(python), "-m", "pytest", "-q", "-p", PLUGIN, "-p", "no:cacheprovider",
         *pytest_args], cwd=tree, env=env, ok_codes=(0, 1))
    lines = done.stdout.strip().splitlines()
    (out / SUMMARY).write_text(f"{lines[-1].strip('= ') if lines else ''} "
                               f"(wall {done.wall_s:.0f} s)\n", encoding="utf-8")
    return read_traces(out, tree)


def suite_summary(out: Path) -> str:
    """pytest's closing line and the wall time of the run that wrote the traces in `out`
    ("" when unknown)."""
    path = out / SUMMARY
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


def read_traces(out: Path, tree: Path) -> list[RuntimeCall]:
    """The distinct calls of every trace-*.json in `out` (one per process), sorted; paths made
    relative to `tree` (the recorder writes real paths)."""
    files = sorted(out.glob("trace-*.json"))
    if not files:
        raise FileNotFoundError(f"the recorder wrote no trace into {out}")
    base = os.path.realpath(tree)

    def ref(row: list) -> CodeRef:
        filename, qualname, first, flags, name = row
        rel = os.path.relpath(os.path.realpath(filename), base).replace(os.sep, "/")
        return CodeRef(rel, qualname, first, flags, name)

    calls = set()
    for path in files:
        for caller, line, callee, via in json.loads(path.read_text())["records"]:
            calls.add(RuntimeCall(ref(caller), line, ref(callee), bool(via)))
    return sorted(calls)
