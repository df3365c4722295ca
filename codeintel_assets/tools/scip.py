"""scip-python: running the indexer (through the ToolRunner) and decoding its SCIP index.

scip-python (npm `@sourcegraph/scip-python`, pinned in `codeintel_assets/tools/node`) is a
pyright-based indexer. What this module has to cope with, as observed on 0.6.6:

- It streams the index to `--output` while it runs (metadata first, then one document at a
  time), so a crash leaves a *partial* index behind. `run_index` writes to `<output>.partial`
  and only renames it to `output` after a zero exit code and a successful parse; on any
  failure the partial file is deleted and nothing is left at `output`.
- When one file crashes it (a pyright internal error while visiting that file), it prints to
  stderr (Node's util.inspect of the thrown object)::

      Experienced Fatal Error While Indexing:
      Please create an issue at github.com/sourcegraph/scip-python: {
        currentFilepath: '/abs/path/of/the/file.py',
        error: Error: Debug Failure. False expression.
            at verifyTypeArgumentsAssignable (...typeEvaluator.ts:22528:9)
            ...
      }

  and exits with code 1 (often preceded by `An internal error occurred while type checking
  file "..."` lines). It has no exclude flag, but it honours the `exclude` of a
  `scip-pyrightconfig.json` / `pyrightconfig.json` in the project root (or `[tool.pyright]` in
  pyproject.toml), so `run_index` excludes the culprit through a temporary config file and
  retries. The config is restored byte for byte (or deleted) afterwards. Caveat: pyright still
  indexes an excluded file that another indexed file imports, so such a culprit crashes the
  retry again; `run_index` then gives up with ToolExecutionError.
- Outside a Git checkout it needs `--project-version` (it otherwise runs `git rev-parse HEAD`),
  so one is always passed.
- It runs `pip list` / `python3` from PATH to map imports to installed packages (this decides
  the package name/version of external symbols).
- Ranges are 0-based; characters are counted in UTF-16 code units (JavaScript string offsets)
  and `Document.position_encoding` is left unset. `decode` converts columns to the project's
  convention (0-based UTF-8 byte offsets, BOM dropped) by reading the source lines.
- `SymbolInformation.kind`, `display_name` and `enclosing_symbol` are never set by 0.6.6;
  `local N` ids restart at 0 in every document, and `external_symbols` may hold `local N`
  entries (for builtins it could not resolve).

No dagster import here: the asset module wraps these functions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from google.protobuf.message import DecodeError

from codeintel_assets.tools import scip_pb2
from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolRunner,
    tail,
)

_NODE_DIR = Path(__file__).resolve().parent / "node"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_INSTALL_CMD = "npm ci --prefix codeintel_assets/tools/node"

_ANY_EXIT_CODE = range(-256, 256)  # run_index inspects the exit code itself
_CONFIG_NAMES = ("scip-pyrightconfig.json", "pyrightconfig.json")  # scip-python's lookup order
# pyright's default excludes, dropped as soon as a config file lists its own `exclude`
_DEFAULT_EXCLUDES = ("**/node_modules", "**/__pycache__", "**/.*")
_VENV_MARKERS = (("bin", "activate"), ("Scripts", "activate"), ("pyvenv.cfg",))
_CULPRIT_RE = re.compile(r"currentFilepath:\s*(['\"`])((?:\\.|(?!\1).)*)\1")
_ANALYSIS_FAILED_RE = re.compile(r"Analysis partially failed with \(\d+/100\)")
_DEFINITION = scip_pb2.Definition
_BOM = "\ufeff"


def scip_python_executable(project_root: str) -> str:
    """Absolute path of the pinned scip-python (`codeintel_assets/tools/node/node_modules/.bin`).

    The package directory is located from this module's file, not from `project_root`;
    `project_root` (the codeintel-assets checkout) only shapes the install hint of the
    ToolNotFoundError raised when the executable (or `node`) is missing.
    """
    exe = _NODE_DIR / "node_modules" / ".bin" / "scip-python"
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        raise ToolNotFoundError("scip-python", _install_hint(project_root))
    if shutil.which("node") is None:
        raise ToolNotFoundError("node", "install Node.js (>= 18) and make sure `node` is on PATH")
    return str(exe)


def _install_hint(project_root: str) -> str:
    try:
        inside = _NODE_DIR.is_relative_to(Path(project_root).resolve())
    except OSError:
        inside = False
    if inside:
        return f"run `{_INSTALL_CMD}` in {Path(project_root).resolve()}"
    return f"run `{_INSTALL_CMD}` in the codeintel-assets checkout (npm ci --prefix {_NODE_DIR})"


def run_index(runner: ToolRunner, root: str, output: str, project_name: str,
              project_version: str, timeout_s: float, node_heap_mb: int = 4096,
              max_retries: int = 3, python_bin_dir: str | None = None) -> dict:
    """Index the Python project at `root` into the SCIP file `output`; never leaves a partial one.

    Runs `scip-python index --project-name N --project-version V --output <output>.partial`
    with cwd=root and NODE_OPTIONS=--max-old-space-size=<node_heap_mb>, and `python_bin_dir` (the
    target interpreter's folder) first on PATH. `timeout_s` bounds the
    whole call (all attempts together). When an attempt crashes on a file that scip-python
    names, that file is excluded (temporary pyright config, restored afterwards) and the run
    retried, at most `max_retries` times. Any other failure (timeout, non-zero exit without a
    culprit, the same culprit again, out of retries, unparsable output) raises
    ToolExecutionError with nothing left at `output`.

    Returns {output, size_bytes, tool_version, document_count, excluded_files (root-relative
    paths), attempts, wall_s, analysis_failures (pyright analysis errors scip-python survived
    in the successful attempt)}.
    """
    if not project_version:
        # Without a version scip-python runs `git rev-parse HEAD`; outside a checkout it then
        # crashes on the first file with a misleading `currentFilepath`.
        raise ValueError("project_version is required (scip-python crashes without one)")
    root_path = Path(root).resolve()
    out = Path(output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    exe = scip_python_executable(str(_PROJECT_ROOT))
    argv = [exe, "index", "--project-name", project_name, "--project-version", project_version,
            "--output", str(partial)]
    env = {"NODE_OPTIONS": f"--max-old-space-size={int(node_heap_mb)}"}
    if python_bin_dir:
        # scip-python (pyright inside) finds the interpreter, and `pip list`, on PATH: the
        # target's environment first, so imports resolve against its installed packages.
        env["PATH"] = os.pathsep.join([python_bin_dir, os.environ.get("PATH", "")])
    _unlink(out)  # a stale index must not pass for this run's result
    excluded: list[str] = []
    started = time.perf_counter()
    attempts = 0
    while True:
        remaining = timeout_s - (time.perf_counter() - started)
        if remaining <= 0:
            raise ToolExecutionError(argv, None, "", f"timed out after {timeout_s:.0f}s "
                                     f"({attempts} attempts, excluded {excluded})")
        attempts += 1
        _unlink(partial)
        try:
            with _excluding(root_path, excluded):
                result = runner.run(argv, cwd=str(root_path), env=env, timeout_s=remaining,
                                    ok_codes=_ANY_EXIT_CODE)
        except BaseException:
            _unlink(partial)
            raise
        if result.returncode == 0:
            break
        _unlink(partial)
        output = tail(result.stderr or result.stdout, 40)
        culprit = _crash_culprit(result.stderr, root_path)
        if culprit is None:
            raise ToolExecutionError(argv, result.returncode, output, _failure_reason(result,
                                                                                    node_heap_mb))
        if culprit in excluded:
            raise ToolExecutionError(
                argv, result.returncode, output,
                f"scip-python crashed on {culprit} again although it is excluded (another indexed "
                "file imports it, so pyright still indexes it)")
        if attempts > max_retries:
            raise ToolExecutionError(
                argv, result.returncode, output,
                f"scip-python crashed on {culprit} after {max_retries} retries (excluded {excluded})")
        excluded.append(culprit)

    try:
        index = _parse_index(partial)
    except (DecodeError, OSError) as exc:
        _unlink(partial)
        raise ToolExecutionError(argv, 0, tail(result.stderr, 40), f"unreadable index: {exc}") from exc
    os.replace(partial, out)
    return {
        "output": str(out),
        "size_bytes": out.stat().st_size,
        "tool_version": index.metadata.tool_info.version,
        "document_count": len(index.documents),
        "excluded_files": excluded,
        "attempts": attempts,
        "wall_s": round(time.perf_counter() - started, 3),
        "analysis_failures": len(_ANALYSIS_FAILED_RE.findall(result.stdout)),
    }


def _failure_reason(result, node_heap_mb: int) -> str:
    text = f"{result.stderr}\n{result.stdout}"
    if "heap out of memory" in text or "Reached heap limit" in text:
        return f"scip-python ran out of memory (node heap {node_heap_mb} MB; raise node_heap_mb)"
    if "Experienced Fatal Error While Indexing" in text:
        return "scip-python failed (fatal error not attributed to a file)"
    return "scip-python failed"


def _crash_culprit(stderr: str, root: Path) -> str | None:
    """Root-relative posix path of the file scip-python names in its crash report, else None."""
    match = None
    for match in _CULPRIT_RE.finditer(stderr or ""):
        pass  # the last report wins
    if match is None:
        return None
    raw = re.sub(r"\\(.)", r"\1", match.group(2))
    path = Path(raw)
    root = root.resolve()
    try:
        rel = (path if path.is_absolute() else root / path).resolve().relative_to(root)
    except ValueError:
        return None
    return rel.as_posix() or None


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# ---------------------------------------------------------------------------------------------
# Temporary exclusion through the pyright config


@contextmanager
def _excluding(root: Path, files: Sequence[str]) -> Iterator[None]:
    """Add `files` to the `exclude` of root's scip-python config while the block runs.

    Uses the file scip-python would read (scip-pyrightconfig.json, else pyrightconfig.json);
    without one, writes pyrightconfig.json seeded with pyproject.toml's [tool.pyright] table
    (a config file hides that table). pyright's default excludes and its venv auto-exclusion
    only apply when `exclude` is unset, so they are added explicitly in that case. The original
    file is restored byte for byte with its times (or removed) afterwards, whatever happens.
    """
    if not files:
        yield
        return
    config_path = next((root / n for n in _CONFIG_NAMES if (root / n).is_file()), None)
    original: bytes | None = None
    times = None
    if config_path is not None:
        original = config_path.read_bytes()
        st = config_path.stat()
        times = (st.st_atime_ns, st.st_mtime_ns)
        config = _load_jsonc(original.decode("utf-8-sig"))
    else:
        config_path = root / "pyrightconfig.json"
        config = _pyproject_pyright_table(root)
    existing = config.get("exclude")
    if isinstance(existing, list) and existing:
        excludes = [e for e in existing if isinstance(e, str)]
    else:
        excludes = list(_DEFAULT_EXCLUDES) + _venv_dirs(root)
    config["exclude"] = excludes + [f for f in files if f not in excludes]
    try:
        config_path.write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")
        yield
    finally:
        if original is None:
            _unlink(config_path)
        else:
            config_path.write_bytes(original)
            if times is not None:
                os.utime(config_path, ns=times)


def _pyproject_pyright_table(root: Path) -> dict:
    try:
        with open(root / "pyproject.toml", "rb") as fh:
            table = tomllib.load(fh).get("tool", {}).get("pyright", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return dict(table) if isinstance(table, dict) else {}


def _load_jsonc(text: str) -> dict:
    """pyright config text (JSON with comments and trailing commas) -> dict ({} if unparsable)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(ch)
            i += 1
    cleaned = re.sub(r",(\s*[}\]])", r"\1", "".join(out))
    try:
        value = json.loads(cleaned)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _venv_dirs(root: Path) -> list[str]:
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


# ---------------------------------------------------------------------------------------------
# Decoding


def _parse_index(path: str | os.PathLike) -> scip_pb2.Index:
    index = scip_pb2.Index()
    with open(path, "rb") as fh:
        index.ParseFromString(fh.read())
    return index


def decode(path: str, root: str | None = None) -> tuple[list[dict], list[dict]]:
    """(symbol rows, occurrence rows) of the SCIP index at `path`, without repo/commit columns.

    `root` is the indexed project's directory (default: the index's Metadata.project_root);
    source files are read from it to convert columns to 0-based UTF-8 byte offsets (a line's
    UTF-16/UTF-32 offsets are mapped through its text; a BOM is dropped as ast does) and to name
    `local N` symbols. An unreadable file keeps the raw columns.

    Symbol rows (one per (symbol, document); `document` is the rel_path for `local N` symbols,
    '' otherwise) come from the SymbolInformation of every document and of external_symbols;
    the first one wins and later ones only fill empty fields. External `local N` entries are
    dropped (their document is unknown). Symbols that only appear in occurrences get no row.
    def_rel_path/def_line/def_col is the first definition occurrence (smallest (rel_path, line,
    col)), preferring the document that declared the symbol; NULL if none. display_name is
    SymbolInformation.display_name, else the last descriptor's name (a module's `__init__:`
    gives the module name; for `local N`: the source text of its definition occurrence, '' if
    none).

    Occurrence rows are keyed (rel_path, start_line, start_col, symbol): duplicates keep the
    first row with the roles OR-ed. Occurrences without a symbol are skipped. Lines are 1-based,
    end_line inclusive, end_col exclusive.
    """
    index = _parse_index(path)
    base = Path(root) if root else _root_from_uri(index.metadata.project_root)
    kind_name = scip_pb2.SymbolInformation.Kind.Name

    occurrences: dict[tuple, dict] = {}
    # (local symbol, rel_path) -> (rel_path, line, col) of its first definition occurrence
    definitions: dict[tuple[str, str], tuple[str, int, int]] = {}
    global_defs: dict[str, list[tuple[str, int, int]]] = {}
    local_names: dict[tuple[str, str], str] = {}
    infos: dict[tuple[str, str], dict] = {}

    for doc in index.documents:
        rel = doc.relative_path
        lines = _source_lines(base, rel) if base is not None else None
        convert = _column_converter(lines, doc.position_encoding)
        for occ in doc.occurrences:
            symbol = occ.symbol
            r = occ.range
            if not symbol or len(r) not in (3, 4):
                continue
            sl, sc = r[0], r[1]
            el, ec = (r[0], r[2]) if len(r) == 3 else (r[2], r[3])
            start_col, end_col = convert(sl, sc), convert(el, ec)
            key = (rel, sl + 1, start_col, symbol)
            row = occurrences.get(key)
            if row is None:
                occurrences[key] = {
                    "rel_path": rel, "start_line": sl + 1, "start_col": start_col,
                    "symbol": symbol, "end_line": el + 1, "end_col": end_col,
                    "symbol_roles": occ.symbol_roles,
                    "is_definition": bool(occ.symbol_roles & _DEFINITION),
                }
            else:
                row["symbol_roles"] |= occ.symbol_roles
                row["is_definition"] = bool(row["symbol_roles"] & _DEFINITION)
            if not occ.symbol_roles & _DEFINITION:
                continue
            where = (rel, sl + 1, start_col)
            if symbol.startswith("local "):
                dkey = (symbol, rel)
                if dkey not in definitions or where < definitions[dkey]:
                    definitions[dkey] = where
                    if lines is not None and sl == el and sl < len(lines):
                        local_names[dkey] = _slice_units(lines[sl], r[1], ec, doc.position_encoding)
            else:
                global_defs.setdefault(symbol, []).append(where)
        for info in doc.symbols:
            _add_info(infos, info, rel, kind_name)
    for info in index.external_symbols:
        if not info.symbol.startswith("local "):
            _add_info(infos, info, None, kind_name)

    symbols: list[dict] = []
    for (symbol, document), row in infos.items():
        if row["is_local"]:
            where = definitions.get((symbol, document))
            if not row["display_name"]:
                row["display_name"] = local_names.get((symbol, document), "")
        else:
            candidates = global_defs.get(symbol, [])
            declared = row.pop("_declared_in", None)
            own = [c for c in candidates if c[0] == declared]
            where = min(own or candidates, default=None)
            if not row["display_name"]:
                row["display_name"] = _last_descriptor_name(symbol)
        row.pop("_declared_in", None)
        row["def_rel_path"], row["def_line"], row["def_col"] = where or (None, None, None)
        symbols.append(row)
    return symbols, list(occurrences.values())


def _add_info(infos: dict, info, rel: str | None, kind_name) -> None:
    symbol = info.symbol
    if not symbol:
        return
    is_local = symbol.startswith("local ")
    key = (symbol, rel if is_local else "")
    row = {
        "symbol": symbol,
        "document": key[1],
        "kind": kind_name(info.kind) if info.kind else "",
        "display_name": info.display_name,
        "documentation": "\n\n".join(info.documentation),
        "enclosing_symbol": info.enclosing_symbol,
        "def_rel_path": None, "def_line": None, "def_col": None,
        "is_local": is_local,
        "_declared_in": rel,
    }
    old = infos.get(key)
    if old is None:
        infos[key] = row
        return
    for field in ("kind", "display_name", "documentation", "enclosing_symbol"):
        if not old[field]:
            old[field] = row[field]
    if old.get("_declared_in") is None:
        old["_declared_in"] = rel


def _root_from_uri(uri: str) -> Path | None:
    if not uri:
        return None
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(urllib.request.url2pathname(parsed.path))


def _source_lines(base: Path, rel: str) -> list[str] | None:
    """The file's lines as pyright splits them (\\r\\n, \\r, \\n), undecodable bytes escaped."""
    try:
        data = (base / rel).read_bytes()
    except OSError:
        return None
    return re.split(r"\r\n|\r|\n", data.decode("utf-8", errors="surrogateescape"))


def _units(ch: str, encoding: int) -> int:
    if encoding == scip_pb2.UTF32CodeUnitOffsetFromLineStart:
        return 1
    if encoding == scip_pb2.UTF8CodeUnitOffsetFromLineStart:
        return len(ch.encode("utf-8", errors="surrogateescape"))
    return 2 if ord(ch) > 0xFFFF else 1  # UTF-16 (scip-python: unset encoding)


def _column_converter(lines: list[str] | None, encoding: int):
    """(0-based line, offset in `encoding` units) -> 0-based UTF-8 byte column, BOM dropped."""
    if lines is None:
        return lambda _line, col: col
    cache: dict[int, tuple[list[int], list[int]] | None] = {}

    def convert(line: int, col: int) -> int:
        if line >= len(lines):
            return col
        text = lines[line]
        if text.isascii():
            return col
        table = cache.get(line)
        if table is None:
            units, nbytes = [0], [0]
            for ch in text:
                units.append(units[-1] + _units(ch, encoding))
                nbytes.append(nbytes[-1] + len(ch.encode("utf-8", errors="surrogateescape")))
            table = cache[line] = (units, nbytes)
        units, nbytes = table
        bom = 3 if line == 0 and text.startswith(_BOM) else 0
        if col >= units[-1]:
            return max(nbytes[-1] + (col - units[-1]) - bom, 0)
        lo, hi = 0, len(units) - 1  # first index with units[i] >= col
        while lo < hi:
            mid = (lo + hi) // 2
            if units[mid] < col:
                lo = mid + 1
            else:
                hi = mid
        return max(nbytes[lo] - bom, 0)

    return convert


def _slice_units(text: str, start: int, end: int, encoding: int) -> str:
    """text[start:end] where start/end count `encoding` units."""
    out, pos = [], 0
    for ch in text:
        if pos >= end:
            break
        if pos >= start:
            out.append(ch)
        pos += _units(ch, encoding)
    return "".join(out).lstrip(_BOM)


def _last_descriptor_name(symbol: str) -> str:
    """Name of the last descriptor of a global SCIP symbol (`pkg/mod/Class#method().` -> method)."""
    # <scheme> ' ' <manager> ' ' <package> ' ' <version> ' ' <descriptors>; '  ' escapes a space
    i, fields = 0, 0
    while fields < 4 and i < len(symbol):
        if symbol[i] == " ":
            if symbol.startswith("  ", i):
                i += 2
                continue
            fields += 1
        i += 1
    names: list[str] = []
    suffixes: list[str] = []
    text, n = symbol[i:], len(symbol) - i
    j = 0
    while j < n:
        ch = text[j]
        if ch == "`":  # escaped identifier, `` is a literal backtick
            k, buf = j + 1, []
            while k < n:
                if text[k] == "`":
                    if text.startswith("``", k):
                        buf.append("`")
                        k += 2
                        continue
                    break
                buf.append(text[k])
                k += 1
            name, j = "".join(buf), k + 1
        elif ch in "([":  # parameter `(name)` or type parameter `[name]`
            close = ")" if ch == "(" else "]"
            k = text.find(close, j + 1)
            k = n if k < 0 else k
            names.append(text[j + 1:k])
            suffixes.append(ch)
            j = k + 1
            continue
        else:
            k = j
            while k < n and (text[k].isalnum() or text[k] in "_+-$"):
                k += 1
            if k == j:  # unexpected character: skip it
                j += 1
                continue
            name, j = text[j:k], k
        # suffix: '/', '#', '.', ':', '!' or a method '(disambiguator).'
        suffix = ""
        if j < n and text[j] == "(":
            k = text.find(").", j)
            j = n if k < 0 else k + 2
            suffix = "()"
        elif j < n and text[j] in "/#.:!":
            suffix = text[j]
            j += 1
        names.append(name)
        suffixes.append(suffix)
    if len(names) >= 2 and names[-1] == "__init__" and suffixes[-1] == ":":
        return names[-2]  # a module (`pkg.mod`/__init__:) is named after its namespace
    return names[-1] if names else ""
