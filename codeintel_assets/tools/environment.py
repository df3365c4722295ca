"""The target's Python environment: which interpreter its code runs and type-checks against, and
the overlay that supplies our test plugins to it without touching it.

The target's tests, and the import resolution of pyright, pyrefly and scip-python, belong to the
target's interpreter, not ours: black's suite needs black's pinned pytest, a `src/` package must
import, and `import dagster` resolves only where dagster is installed.

`resolve_python` picks the interpreter, in this order: the configured path (`target.python`, or
`$CODEINTEL_TARGET_PYTHON`), `<target>/.venv`, `<target>/venv`, else this project's own
interpreter; it asks the interpreter (through the ToolRunner) for its version, prefix and whether
pytest is installed, and returns a `TargetPython` that says which one and why.

`plugin_overlay` builds (once per Python version and pin set, cached under
`$CODEINTEL_CACHE_DIR`, default `~/.cache/codeintel-assets`) a directory of the test plugins at
this project's installed versions: coverage, pytest-cov, pytest-json-report and pytest-metadata,
installed with `pip install --target --no-deps --only-binary=:all: --python-version X.Y`, so the
compiled coverage tracer matches the target's Python. When the target's environment lacks pytest,
a second directory holds pytest and its dependencies. The run puts them first on PYTHONPATH;
nothing is installed into, or otherwise changes, the target's environment.

Failures here are ours, never the target's: a configured interpreter that does not exist or does
not run raises ToolNotFoundError; pip failing to build the overlay raises ToolExecutionError.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from filelock import FileLock

from codeintel_assets.tools.registry import TESTS
from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolRunner,
)

PYTHON_ENV = "CODEINTEL_TARGET_PYTHON"
CACHE_ENV = "CODEINTEL_CACHE_DIR"
# Environments a target keeps in its own tree, in the order they are tried.
VENV_DIRS = (".venv", "venv")
# The test plugins we supply (at our installed versions), and pytest when the target lacks it.
# Both are the test run's pins in the registry: pytest first, then its plugins.
PYTEST_DISTRIBUTION, *_PLUGINS = TESTS.distributions
PLUGIN_DISTRIBUTIONS = tuple(_PLUGINS)

_PROBE = ("import json, sys, importlib.util as u; print(json.dumps({"
          "'version': '.'.join(map(str, sys.version_info[:3])), 'prefix': sys.prefix, "
          "'implementation': sys.implementation.name, "
          "'has_pytest': u.find_spec('pytest') is not None}))")
# Every distribution the interpreter sees (`name==version`, sorted) and its full build string:
# what a test run's result depends on in the target's environment (tools/service.test_run_key).
# Run with -E and without the '' (cwd) entry: the user site counts, as in the test run, but not
# $PYTHONPATH (the test run's is our overlay, keyed by our pins).
_DISTRIBUTIONS = ("import json, sys, importlib.metadata as m; sys.path[:] = filter(None, "
                  "sys.path); print(json.dumps([sys.version, sorted({f\"{d.metadata['Name']}"
                  "=={d.version}\" for d in m.distributions() if d.metadata['Name']})]))")


@dataclass(frozen=True)
class TargetPython:
    """The interpreter of the target's environment.

    executable: absolute path as configured or found (not resolved: a venv's `bin/python` is a
    symlink whose target would lose the venv); reason: why it was chosen; version: 'X.Y.Z';
    prefix: its `sys.prefix`; is_own: it is this project's interpreter (our venv already has the
    test plugins, and the target's source roots go on PYTHONPATH instead of an installed
    package); has_pytest: pytest is importable there.
    """

    executable: str
    reason: str
    version: str
    prefix: str
    implementation: str
    is_own: bool
    has_pytest: bool

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def bin_dir(self) -> str:
        return os.path.dirname(self.executable)

    def metadata(self) -> dict[str, str]:
        """What a tool step's metadata says of it."""
        return {"target_python": self.executable, "target_python_reason": self.reason,
                "target_python_version": self.version}


def find_python(root: str, configured: str = "") -> tuple[str, str]:
    """(executable, reason) by the module docstring's order; no process is started."""
    if configured:
        path = configured if os.path.isabs(configured) else os.path.join(root, configured)
        return os.path.abspath(path), "configured (target.python or $" + PYTHON_ENV + ")"
    for folder in VENV_DIRS:
        for name in ("bin/python", "Scripts/python.exe"):
            candidate = os.path.join(root, folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate, f"the target's own environment <target>/{folder}"
    return sys.executable, "codeintel-assets' own interpreter (the target has no .venv or venv)"


def resolve_python(runner: ToolRunner, root: str, configured: str = "") -> TargetPython:
    """The target's interpreter, probed once. Raises ToolNotFoundError when it cannot run."""
    executable, reason = find_python(os.path.abspath(root), configured)
    if not os.path.isfile(executable):
        raise ToolNotFoundError("python", f"the target interpreter {executable} ({reason}) "
                                "does not exist; set target.python or $" + PYTHON_ENV)
    try:
        probe = json.loads(runner.run([executable, "-I", "-c", _PROBE], timeout_s=60).stdout)
    except (ToolExecutionError, ValueError) as exc:
        raise ToolNotFoundError("python", f"the target interpreter {executable} ({reason}) "
                                f"does not run: {exc}") from exc
    own = os.path.realpath(probe["prefix"]) == os.path.realpath(sys.prefix)
    return TargetPython(executable, reason, probe["version"], probe["prefix"],
                        probe["implementation"], own, probe["has_pytest"])


def installed_distributions(runner: ToolRunner, python: TargetPython) -> list[str]:
    """[sys.version, *sorted `name==version`] of every distribution importlib.metadata finds in
    `python` (site-packages and the user site; not $PYTHONPATH: the test run's overlay is keyed
    separately by our pins). One process, ~0.1-0.5 s; not cached across runs (`Probes` keeps it
    for one), since a `pip install` must always be seen. Raises ToolNotFoundError when the interpreter does not run."""
    try:
        version, names = json.loads(runner.run([python.executable, "-E", "-c", _DISTRIBUTIONS],
                                               timeout_s=120).stdout)
    except (ToolExecutionError, ValueError) as exc:
        raise ToolNotFoundError("python", f"the target interpreter {python.executable} could "
                                f"not list its distributions: {exc}") from exc
    return [version, *names]


class Probes:
    """`resolve_python` and `installed_distributions` asked once each: one run's answers (the
    environment is part of the run's snapshot, as the scanned tree is), kept by ToolService,
    whose typing, index and test steps each asked again, a process each."""

    def __init__(self) -> None:
        self._found: dict = {}

    def python(self, runner: ToolRunner, root: str, configured: str) -> TargetPython:
        """`resolve_python(runner, root, configured)`, asked once per (root, configured)."""
        if (root, configured) not in self._found:
            self._found[root, configured] = resolve_python(runner, root, configured)
        return self._found[root, configured]

    def distributions(self, runner: ToolRunner, python: TargetPython) -> list[str]:
        """`installed_distributions(runner, python)` (a copy), asked once per interpreter."""
        if python not in self._found:
            self._found[python] = installed_distributions(runner, python)
        return list(self._found[python])


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "codeintel-assets")


def plugin_pins() -> list[str]:
    """`name==version` of the plugins as installed here (the project's pins)."""
    return [f"{d}=={metadata.version(d)}" for d in PLUGIN_DISTRIBUTIONS]


def pytest_pin() -> str:
    return f"{PYTEST_DISTRIBUTION}=={metadata.version(PYTEST_DISTRIBUTION)}"


def plugin_overlay(runner: ToolRunner, python: TargetPython, timeout_s: float = 600) -> list[str]:
    """PYTHONPATH entries that supply the test plugins (and pytest, if missing) to `python`.

    Empty for our own interpreter, which has them installed. Each directory is built once (under
    a file lock, into a temporary folder renamed into place, so a killed build leaves nothing
    half-made) and reused while the Python version and the pins stay the same.
    """
    if python.is_own:
        return []
    layers = [_layer(runner, python, plugin_pins(), with_deps=False, timeout_s=timeout_s)]
    if not python.has_pytest:
        layers.append(_layer(runner, python, [pytest_pin()], with_deps=True,
                             timeout_s=timeout_s))
    return layers


def _layer(runner: ToolRunner, python: TargetPython, pins: list[str], with_deps: bool,
           timeout_s: float) -> str:
    digest = hashlib.blake2b(json.dumps([python.implementation, python.minor, pins, with_deps])
                             .encode(), digest_size=6).hexdigest()
    name = f"{'pytest' if with_deps else 'plugins'}-{python.implementation}{python.minor}-{digest}"
    base = cache_dir() / "overlays"
    final = base / name
    base.mkdir(parents=True, exist_ok=True)
    with FileLock(str(base / f"{name}.lock")):
        if final.is_dir():
            return str(final)
        building = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=base))
        argv = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--no-input", "--target", str(building), "--only-binary=:all:",
                "--implementation", "cp" if python.implementation == "cpython" else "py",
                "--python-version", python.minor, *([] if with_deps else ["--no-deps"]), *pins]
        try:
            runner.run(argv, timeout_s=timeout_s)
            os.replace(building, final)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return str(final)

