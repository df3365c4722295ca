"""The target's pytest configuration, read as pytest finds it, for the one thing the test run
keeps of its `addopts`: the parallelism the suite declares (pytest-xdist's options).

The test run drops the target's addopts (tools/testrun.py: they carry coverage reports, `-x`,
`--cov-fail-under`...), but a suite whose authors run it with `-n 2` is one they keep safe to run
in parallel, and run serially it can take several times as long (this project's own suite: over
30 minutes serially, 16 on two workers), past the run's time limit. So `xdist_args` returns the
`-n`/`--numprocesses`, `--maxprocesses` and `--dist` options of the addopts, for the run to pass
again when pytest-xdist is installed in the target's environment.

Where pytest looks (its documented order, in the root folder only: the test run passes
`--rootdir=<root>` and runs there): `pytest.ini` and `.pytest.ini` (always, even without a
`[pytest]` section), `pyproject.toml` with `[tool.pytest.ini_options]` (or pytest 9's native
`[tool.pytest]`, whose addopts may be a list), `tox.ini` with `[pytest]`, `setup.cfg` with
`[tool:pytest]`. A file that cannot be read or parsed counts as absent (pytest would refuse it;
the run then says so itself).
"""

from __future__ import annotations

import configparser
import os
import shlex
import tomllib
from collections.abc import Callable, Iterable, Sequence

from packaging.utils import canonicalize_name

# (file name, its ini section; None: pyproject.toml's tables)
INI_FILES = (("pytest.ini", "pytest"), (".pytest.ini", "pytest"), ("pyproject.toml", None),
             ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))
# pytest-xdist's options that say how the suite runs in parallel, with and without a value.
XDIST = "pytest-xdist"  # the distribution (canonical name) that must be installed for them
_VALUED = ("-n", "--numprocesses", "--maxprocesses", "--dist")


def addopts(root: str) -> list[str]:
    """The `addopts` of the pytest configuration file that pytest uses at `root`, split as
    pytest splits them (shlex); [] when there is none or it sets no addopts."""
    for name, section in INI_FILES:
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        found = _pyproject(path) if section is None else _ini(path, section, name)
        if found is not None:
            return found
    return []


def _pyproject(path: str) -> list[str] | None:
    try:
        with open(path, "rb") as fh:
            pytest_table = tomllib.load(fh).get("tool", {}).get("pytest")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if not isinstance(pytest_table, dict):
        return None
    ini = pytest_table.get("ini_options")
    table = ini if isinstance(ini, dict) else pytest_table
    value = table.get("addopts", "")
    return [str(v) for v in value] if isinstance(value, list) else shlex.split(str(value))


def _ini(path: str, section: str, name: str) -> list[str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None
    if not parser.has_section(section):
        return [] if name in ("pytest.ini", ".pytest.ini") else None
    return shlex.split(parser.get(section, "addopts", fallback=""))


def declared_xdist(root: str, pytest_args: Sequence[str],
                   distributions: Callable[[], Iterable[str]]) -> list[str]:
    """The pytest-xdist options of the addopts at `root` (`xdist_args`), when pytest-xdist is
    among `distributions()` (`name==version` of the target's environment, asked only when
    there are some) and `pytest_args` do not turn it off (`-p no:xdist`, whose run would
    reject them as unrecognized arguments); else []."""
    off = "-pno:xdist" in pytest_args or any(
        a == "-p" and b == "no:xdist" for a, b in zip(pytest_args, pytest_args[1:]))
    wanted = [] if off else xdist_args(addopts(root))
    if not wanted:
        return []
    names = {canonicalize_name(d.split("==")[0]) for d in distributions()}
    return wanted if XDIST in names else []


def xdist_args(options: list[str]) -> list[str]:
    """The pytest-xdist options among `options` (`-n 2`, `-nauto`, `--numprocesses=4`,
    `--dist loadfile`, `--maxprocesses=2`), each as one `--opt=value` token; a later one of a
    kind wins, as in pytest's own parsing. `-n 0` (no workers) is kept: it says serially."""
    chosen: dict[str, str] = {}
    i = 0
    while i < len(options):
        token = options[i]
        name, value = token, None
        if "=" in token and token.startswith("--"):
            name, value = token.split("=", 1)
        elif token.startswith("-n") and not token.startswith("--") and len(token) > 2:
            name, value = "-n", token[2:].removeprefix("=")  # -n2, -nauto, -n=2
        if name in _VALUED:
            if value is None and i + 1 < len(options):
                value, i = options[i + 1], i + 1
            if value is not None:
                chosen["--numprocesses" if name == "-n" else name] = value
        i += 1
    return [f"{name}={value}" for name, value in chosen.items()]
