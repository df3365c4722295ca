"""The target's declared test dependencies, and which of them its interpreter lacks.

A suite run without its test dependencies fails for the environment's reasons (a test module
that cannot import hypothesis, a plugin's fixture that is not there), and those failures would
read as the code's: risk cites failing covering tests. So the test run compares what the target
declares for its tests with what its interpreter has installed, and says what is missing.

Where declarations come from (`declared`), read-only, in this order:
- pyproject.toml: `[project.optional-dependencies]` and PEP 735 `[dependency-groups]` entries
  named test, tests or testing (`{include-group = ...}` followed); a requirement on the project
  itself (`demo-pkg[extra]`) is not a dependency;
- requirements files whose name says test (`requirements/tests.txt` as flask keeps them,
  `requirements-test.txt`, `test-requirements.txt`), with the files they include (`-r`).
  Options (`-e .`, `--hash`, `-c`) and comments are skipped.
A requirement whose environment marker is false for the target's Python is not one. Markers
are evaluated for the target's Python version on this machine's platform (the test run runs
there). No file, no declarations: nothing is missing.

`unmet` joins them with `environment.installed_distributions` by canonical name (PEP 503):
a distribution that is not installed, or installed at a version outside the specifier. Pure
Python on files and lists; no dagster import, runs nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

TEST_GROUPS = ("test", "tests", "testing")
# Requirement files named for tests, relative to the root (the ones real projects keep).
REQUIREMENT_GLOBS = ("requirements/*test*.txt", "requirements*test*.txt",
                     "test*requirements*.txt", "requirements/*test*.in")


@dataclass(frozen=True)
class Declared:
    """One test requirement as written (PEP 508), and where (file, and the table or group)."""
    source: str
    requirement: str


@dataclass(frozen=True)
class Unmet:
    """A declared requirement the interpreter does not satisfy: `installed` is its installed
    version, None when it is not installed at all; `source` lists where it is declared."""
    requirement: str
    name: str
    installed: str | None
    source: str

    def __str__(self) -> str:
        have = "not installed" if self.installed is None else f"{self.installed} installed"
        return f"{self.requirement} ({have}; {self.source})"


def declared(root: str, python_version: str) -> list[Declared]:
    """Test requirements of the checkout at `root` whose markers hold for `python_version`
    ('3.11.7'), in file order, duplicates kept (each with its source). Unreadable or invalid
    files and lines are skipped: a declaration we cannot read declares nothing."""
    base = Path(root)
    pyproject = _read_pyproject(base / "pyproject.toml")
    found = _from_pyproject(pyproject)
    seen: set[Path] = set()
    for pattern in REQUIREMENT_GLOBS:
        for path in sorted(base.glob(pattern)):
            found.extend(_from_requirements_file(base, path, seen))
    name = pyproject.get("project", {}).get("name", "")
    project = canonicalize_name(name) if isinstance(name, str) else ""
    return [d for d in found if _applies(d.requirement, python_version, project)]


def unmet(requirements: list[Declared], installed: list[str]) -> list[Unmet]:
    """The requirements `installed` (environment.installed_distributions: sys.version, then
    `name==version`) does not satisfy, one per distribution in first-declared order, its
    sources joined."""
    versions = {canonicalize_name(n): v for n, _, v in
                (line.partition("==") for line in installed[1:])}
    by_name: dict[str, tuple[Requirement, str, list[str]]] = {}
    for d in requirements:
        req = Requirement(d.requirement)
        name = canonicalize_name(req.name)
        if name in by_name:
            if d.source not in by_name[name][2]:
                by_name[name][2].append(d.source)
            continue
        by_name[name] = (req, d.requirement, [d.source])
    out = []
    for name, (req, text, sources) in by_name.items():
        have = versions.get(name)
        if have is None or not req.specifier.contains(have, prereleases=True):
            out.append(Unmet(text, name, have, ", ".join(sources)))
    return out


def _read_pyproject(path: Path) -> dict:
    """pyproject.toml as a dict; {} when it is missing or unreadable."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _from_pyproject(data: dict) -> list[Declared]:
    optional = data.get("project", {}).get("optional-dependencies", {}) or {}
    groups = data.get("dependency-groups", {}) or {}
    out = []
    for name in TEST_GROUPS:
        for req in optional.get(name, ()) or ():
            out.append(Declared(f"pyproject.toml [project.optional-dependencies] {name}", req))
        for req in _group(groups, name, set()):
            out.append(Declared(f"pyproject.toml [dependency-groups] {name}", req))
    return [d for d in out if isinstance(d.requirement, str)]


def _group(groups: dict, name: str, seen: set[str]) -> list[str]:
    """PEP 735: a group's requirements with `{include-group = ...}` expanded (cycles cut)."""
    if name in seen:
        return []
    seen.add(name)
    out = []
    for item in groups.get(name, ()) or ():
        if isinstance(item, dict) and "include-group" in item:
            out.extend(_group(groups, item["include-group"], seen))
        elif isinstance(item, str):
            out.append(item)
    return out


def _from_requirements_file(root: Path, path: Path, seen: set[Path]) -> list[Declared]:
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    rel = path.relative_to(root).as_posix()
    out: list[Declared] = []
    for line in lines:
        text = line.split(" #", 1)[0].strip()
        if text.startswith(("-r ", "--requirement ")):
            out.extend(_from_requirements_file(root, path.parent / text.split(None, 1)[1], seen))
        elif text and not text.startswith(("#", "-")):
            out.append(Declared(rel, text))
    return out


def _applies(text: str, python_version: str, project: str) -> bool:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return False
    if canonicalize_name(req.name) == project:
        return False
    if req.marker is None:
        return True
    major_minor = ".".join(python_version.split(".")[:2])
    try:
        return Marker(str(req.marker)).evaluate({"python_version": major_minor,
                                                 "python_full_version": python_version,
                                                 "extra": ""})
    except UndefinedEnvironmentName:
        return False
