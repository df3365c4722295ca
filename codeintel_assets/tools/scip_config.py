"""Choosing the files of a scip-python run without writing into the indexed tree.

scip-python has no exclude flag and no option naming a config file (0.6.6 reads
`scip-pyrightconfig.json`, else `pyrightconfig.json`, from the project root, else walks up; else
`[tool.scip]`, else `[tool.pyright]` of pyproject.toml). It indexes that config's `include`
minus its `exclude`. So `serving` writes the effective config with the scan's files as
`include` (and the files to leave out as `exclude`) to a temporary file outside the tree, and
preloads `node/config_overlay.cjs` into scip-python (NODE_OPTIONS=--require), which makes node
serve the root's config path from that file. The user's files are never opened for
writing, so a killed run leaves nothing behind in the tree (at worst a temporary directory).
Every path pyright sees stays the same, so symbols and package names match an unexcluded run
(a mirror tree of symlinks would change the paths that decide them).

No dagster import here.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import json5

from codeintel_assets.storage.location import WAREHOUSE_FOLDER

OVERLAY_JS = Path(__file__).resolve().parent / "node" / "config_overlay.cjs"
TARGET_VAR, SOURCE_VAR = "CODEINTEL_SCIP_CONFIG_TARGET", "CODEINTEL_SCIP_CONFIG_SOURCE"
CONFIG_NAMES = ("scip-pyrightconfig.json", "pyrightconfig.json")  # scip-python's lookup order
# pyright's default excludes, dropped as soon as a config file lists its own `exclude`
DEFAULT_EXCLUDES = ("**/node_modules", "**/__pycache__", "**/.*")
_VENV_MARKERS = (("bin", "activate"), ("Scripts", "activate"), ("pyvenv.cfg",))


@contextmanager
def serving(root: Path, files: Sequence[str] | None, excluded: Sequence[str],
            node_options: str) -> Iterator[dict[str, str]]:
    """Environment additions that make scip-python, run with cwd=`root`, index exactly `files`
    minus `excluded`.

    `files` are the root-relative posix paths to index (the scan's Python files), or None to
    keep the file list of the target's config; `excluded` root-relative paths to leave out
    (files scip-python crashed on); `node_options` the NODE_OPTIONS the run needs anyway (the
    heap size). Yields {"NODE_OPTIONS": ...} alone when there is nothing to change (`files`
    None, `excluded` empty); otherwise also the overlay's two variables, valid while the block
    runs (the temporary config is deleted afterwards).

    The config served is the one scip-python would read (see `effective_config`) with its
    settings for resolution kept (extraPaths, venv, executionEnvironments, stubPath...). With
    `files`, its `include` becomes `files` and its `exclude` becomes `excluded`: the target's
    file list is input, not authority (a `[tool.pyright] include = ["pkg"]` would leave tests
    and examples out of the index). Without, `excluded` is appended to its `exclude`.
    pyright applies its default excludes (and its virtualenv auto-exclusion) when `exclude`
    is empty, so it is never served empty: without `files` the defaults are written out; with
    `files` the warehouse's folder (which the scan never lists) stands in, since a default
    like `**/.*` would drop a scanned file under `.github/`. `pythonPlatform` is "All" unless
    the target sets one, so other platforms' code keeps its symbols.
    """
    if files is None and not excluded:
        yield {"NODE_OPTIONS": node_options}
        return
    target, config = effective_config(root)
    # Read from a config file, pyright assumes this machine's platform where the target sets
    # none, and code after `if sys.platform == "win32": ... else: raise` becomes unreachable:
    # no symbols (rich's _win32_console.py). A platform it does not know narrows nothing, as
    # when scip-python runs without a config (newer pyright spells it "All").
    config.setdefault("pythonPlatform", "All")
    if files is not None:
        # An empty `include` would mean the whole root to pyright (virtualenvs included): the
        # warehouse's folder, which holds no Python file, stands for no file at all.
        config["include"] = sorted(files) or [WAREHOUSE_FOLDER]
        config["exclude"] = list(excluded) or [WAREHOUSE_FOLDER]
    else:
        existing = config.get("exclude")
        if isinstance(existing, list) and existing:
            excludes = [e for e in existing if isinstance(e, str)]
        else:
            excludes = list(DEFAULT_EXCLUDES) + venv_dirs(root)
        config["exclude"] = excludes + [f for f in excluded if f not in excludes]
    with tempfile.TemporaryDirectory(prefix="codeintel-scip-config-") as tmp:
        source = Path(tmp) / target.name
        source.write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")
        yield {
            # Quoted: NODE_OPTIONS splits at spaces, and the checkout's path may contain one.
            "NODE_OPTIONS": f'{node_options} --require "{OVERLAY_JS}"',
            TARGET_VAR: str(target), SOURCE_VAR: str(source),
        }


def effective_config(root: Path) -> tuple[Path, dict]:
    """(the config path scip-python reads in `root`, its settings as a dict).

    The first existing file of CONFIG_NAMES (JSON with comments and trailing commas, parsed
    with json5; {} if unparsable, as pyright then ignores it too); without one, the path
    `root/pyrightconfig.json` (which scip-python would prefer to pyproject.toml) with
    pyproject.toml's `[tool.scip]`, else `[tool.pyright]` table. `root` must be resolved.
    """
    for name in CONFIG_NAMES:
        path = root / name
        if path.is_file():
            try:
                value = json5.loads(path.read_bytes().decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                value = {}
            return path, value if isinstance(value, dict) else {}
    return root / "pyrightconfig.json", _pyproject_table(root)


def _pyproject_table(root: Path) -> dict:
    try:
        with open(root / "pyproject.toml", "rb") as fh:
            tool = tomllib.load(fh).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    if not isinstance(tool, dict):
        return {}
    table = tool.get("scip") or tool.get("pyright")  # scip-python's order
    return dict(table) if isinstance(table, dict) else {}


def venv_dirs(root: Path) -> list[str]:
    """Root-relative virtual environments pyright would auto-exclude (markers as pyright's)."""
    found: list[str] = []
    for dirpath, dirnames, _files in os.walk(root):
        here = Path(dirpath)
        if here != root and any((here / Path(*m)).exists() for m in _VENV_MARKERS):
            found.append(here.relative_to(root).as_posix())
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames
                       if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
    return sorted(found)
