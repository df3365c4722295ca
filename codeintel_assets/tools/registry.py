"""The tools ToolService runs, stated once: their names and the packages that pin them.

Every other place derives from `TOOLS`: ToolService.enabled's default and description, the
static tools typing_ingest runs concurrently, the per-tool error counts, install hints, the CLI
help and the README's configuration table (a test compares it). Versions are never written
here: the pins live in pyproject.toml (PyPI) and `tools/node/package.json` (npm), and
`Tool.version()` reads the installed ones, so a pin bump changes every report and cache key
without another edit. No dagster import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

NODE_DIR = Path(__file__).parent / "node"  # scip-python's npm project (package.json)


@dataclass(frozen=True)
class Tool:
    """One tool of ToolService.

    name: its entry in ToolService.enabled (and the stem of its `<name>_completed` check);
    distributions: the pinned packages whose installed versions are the tool's version, the
    first being the tool itself (PyPI names; `npm:` + name for scip-python's package);
    install: the pip requirement an install hint names (extras included), '' for npm;
    static: a static analyser typing_ingest runs on the scanned files.
    """

    name: str
    distributions: tuple[str, ...]
    install: str = ""
    static: bool = False

    def versions(self) -> dict[str, str]:
        """{distribution: installed version}; importlib.metadata.PackageNotFoundError when a
        pinned package is not installed, KeyError for an npm package missing from
        package.json."""
        return {d: _version(d) for d in self.distributions}

    def version(self) -> str:
        """The installed version of the tool's own distribution, e.g. '1.1.414'."""
        return _version(self.distributions[0])

    def install_hint(self) -> str:
        """`pip install '<requirement>==<installed version>'`, the pin this project expects;
        when the distribution itself is missing (the usual reason for a hint), the pin is
        pyproject.toml's, named rather than repeated here."""
        try:
            return f"pip install '{self.install}=={self.version()}'"
        except metadata.PackageNotFoundError:
            return f"pip install '{self.install}' at the version pinned in pyproject.toml"


def _version(distribution: str) -> str:
    if distribution.startswith("npm:"):
        pins = json.loads((NODE_DIR / "package.json").read_text(encoding="utf-8"))
        return pins["dependencies"][distribution.removeprefix("npm:")]
    return metadata.version(distribution)


PYRIGHT = Tool("pyright", ("pyright",), install="pyright[nodejs]", static=True)
PYREFLY = Tool("pyrefly", ("pyrefly",), install="pyrefly", static=True)
RUFF = Tool("ruff", ("ruff",), install="ruff", static=True)
# The test run: pytest with the plugins supplied to the target (tools/environment.py).
TESTS = Tool("tests", ("pytest", "coverage", "pytest-cov", "pytest-json-report",
                       "pytest-metadata"))
SCIP = Tool("scip", ("npm:@sourcegraph/scip-python",))

TOOLS: tuple[Tool, ...] = (PYRIGHT, PYREFLY, RUFF, TESTS, SCIP)
TOOL_NAMES: tuple[str, ...] = tuple(t.name for t in TOOLS)
STATIC_TOOLS: tuple[str, ...] = tuple(t.name for t in TOOLS if t.static)
BY_NAME: dict[str, Tool] = {t.name: t for t in TOOLS}


def versions() -> dict[str, str]:
    """{tool name: installed version of its own distribution}, for run metadata."""
    return {t.name: t.version() for t in TOOLS}
