"""Flatten a repository's config files into `analytics.config_values` rows.

Config files (TOML, YAML, JSON, INI/CFG, dotenv) are parsed with the standard parser of their
format and flattened into one row per leaf, keyed by a dotted keypath in which list items are
numbers (`tool.ruff.lint.select.0`). Credentials are masked (see `redact`). Bad input is data,
not an exception: a file that cannot be decoded or parsed becomes one `parse_error` row, a
file the scan found too large or binary one row with that status (`extract.limits`: one limit,
one verdict), and a file with too many keys is cut off with a `truncated` row.

`config_references` links the keys to code. The module is free of Dagster so worker processes
import it cheaply.
"""

from __future__ import annotations

import configparser
import datetime as dt
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import yaml

from codeintel_assets.extract.limits import (
    DEFAULT_MAX_FILE_BYTES,
    UNPARSED_STATUSES,
    too_large_message,
)
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.redact import redact, secret_key

# Bump when the rows this module produces change for unchanged input: stored rows built by
# another version are rebuilt in full (see storage.changes). 2: credentials inside values and
# literals are masked, and more key names count as secret. 3: the scan's too_large / binary
# verdict and size limit decide, not a limit of this module's own.
VERSION = 3
# Distributions whose installed version changes this module's rows ("python": the
# interpreter); storage.incremental builds the ledger version from VERSION and these.
LIBRARIES = ("pyyaml", "detect-secrets", "python")  # tomllib; detect-secrets masks values

CONFIG_TABLE = "analytics.config_values"

# Format names, as stored in analytics.config_values.format (and core.file_state.language).
CONFIG_FORMATS: tuple[str, ...] = ("toml", "yaml", "json", "ini", "cfg", "env")

# Gitignore-style patterns (matched against the file name) that select exactly the files for
# which `config_format` is not None.
CONFIG_GLOBS: tuple[str, ...] = (
    "*.toml", "*.yaml", "*.yml", "*.json", "*.ini", "*.cfg", ".env", ".env.*",
)

MAX_KEYS_PER_FILE = 20_000  # distinct keypaths kept per file; the rest become one 'truncated' row
PREVIEW_CHARS = 200  # value_preview (and error message) length cap, in characters
# Masking looks this far into a value before the preview is cut, so that a credential
# straddling the cut (a PEM block, a long URL) is still recognized whole.
REDACT_CHARS = 16_384

_EXTENSIONS = {
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".ini": "ini", ".cfg": "cfg",
}
# Well-known INI-dialect files whose extension says otherwise.
_INI_NAMES = frozenset({"setup.cfg", "tox.ini"})
# Counting the keys dropped past MAX_KEYS_PER_FILE stops here (YAML aliases can expand a small
# file into billions of leaves); beyond it the truncated row says "more than".
_COUNT_DROPPED_UP_TO = 1_000_000
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def config_format(rel_path: str) -> str | None:
    """The config format of a file from its name, or None if it is not a config file.

    `*.toml` -> toml, `*.yaml`/`*.yml` -> yaml, `*.json` -> json, `*.ini` -> ini, `setup.cfg`
    -> ini, other `*.cfg` -> cfg, `.env` and `.env.*` (e.g. `.env.example`) -> env. Matching is
    case-sensitive like CONFIG_GLOBS; a known extension wins over the `.env.` prefix
    (`.env.json` is json).
    """
    name = PurePosixPath(rel_path).name
    if name in _INI_NAMES:
        return "ini"
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if name == ".env" or name.startswith(".env."):
        return "env"
    return None


# --------------------------------------------------------------------------------------------
# Extraction


def config_extractor(max_file_bytes: int):
    """`extract_config_values` with the scan's size limit (TargetRepo.max_file_bytes), as a
    picklable per-file extractor."""
    return partial(extract_config_values, max_file_bytes=max_file_bytes)


def extract_config_values(job: FileJob, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                          ) -> dict[str, list[dict]]:
    """Rows of `analytics.config_values` for the config file `job.rel_path` (the config_path).

    A file the scan recorded as too_large or binary (`job.scan_status`) is not read: it gets
    one row with key '', that status as value_type and the scan's parse_error as
    value_preview. Otherwise reads `job.abs_path` (at most `max_file_bytes` + 1 bytes, the
    scan's limit: a file that grew past it since the scan is too_large too), decodes it as
    UTF-8 (a BOM is allowed) and parses it by `config_format(job.rel_path)`:

    - toml: tomllib; yaml: every document of the stream (keys are prefixed with the document
      index only when there is more than one document); json: the json module;
    - ini/cfg: configparser without interpolation, option names case-preserved, no DEFAULT
      propagation (`[DEFAULT]` is an ordinary section), keys `section.option`;
    - env: `KEY=VALUE` lines; blank lines and `#` comments ignored, a leading `export ` dropped,
      matching quotes stripped, ` #` comments after unquoted values dropped.

    Nested mappings and lists flatten to dotted keypaths; list items are numbered from 0. Each
    leaf is one row with value_type str | int | float | bool | null, or list | dict for an empty
    container. A file whose root is a scalar yields one row with key ''; a file with no keys
    (empty mapping, comment-only YAML) yields no rows. Repeated keypaths keep the last value.
    value_preview is the value as text capped at PREVIEW_CHARS (bools `true`/`false`, null as
    NULL, dates ISO 8601), with credentials masked by `redact.redact` before the cut: `***` for
    a key named like a secret (`DB_PASS`, `api_token`), in place otherwise
    (`postgres://user:***@host/db`).

    Never raises for bad content: undecodable or unparsable input gives one row with key '',
    value_type `parse_error` and the error message (without file content, so no secret leaks)
    as value_preview; keys beyond
    MAX_KEYS_PER_FILE are dropped and reported by one `truncated` row with key ''. Raises
    ValueError when `job.rel_path` is not a config file and OSError when it cannot be read.
    References are left empty ('[]', '[]', 0); `attach_references` fills them.
    """
    fmt = config_format(job.rel_path)
    if fmt is None:
        raise ValueError(f"not a config file: {job.rel_path!r}")

    def row(key: str, value_type: str, preview: str | None) -> dict:
        return {
            "repo": job.repo, "commit": job.commit, "config_path": job.rel_path, "key": key,
            "format": fmt, "value_type": value_type, "value_preview": preview,
            "reference_paths": "[]", "reference_modules": "[]", "reference_count": 0,
        }

    if job.scan_status in UNPARSED_STATUSES:
        return {CONFIG_TABLE: [row("", job.scan_status, _cap(job.scan_error or ""))]}
    with open(job.abs_path, "rb") as fh:
        data = fh.read(max_file_bytes + 1)
        if len(data) > max_file_bytes:
            size = max(len(data), os.fstat(fh.fileno()).st_size)
            return {CONFIG_TABLE: [row("", "too_large", too_large_message(size, max_file_bytes))]}

    try:
        root = _PARSERS[fmt](data.decode("utf-8-sig"))
    except Exception as exc:  # any decoder or parser failure is data about the file
        return {CONFIG_TABLE: [row("", "parse_error", _cap(_error_message(exc)))]}

    rows: dict[str, dict] = {}
    dropped = 0
    for key, value in _leaves(root):
        if key in rows or len(rows) < MAX_KEYS_PER_FILE:
            value_type, text = _describe(value)
            preview = None if text is None and not secret_key(key) else \
                _cap(redact(_cap(text or "", REDACT_CHARS), key).text)
            rows[key] = row(key, value_type, preview)  # a repeated keypath keeps the last value
        else:
            dropped += 1
            if dropped > _COUNT_DROPPED_UP_TO:
                break
    if dropped:
        count = f"more than {_COUNT_DROPPED_UP_TO}" if dropped > _COUNT_DROPPED_UP_TO else dropped
        message = f"{count} keys dropped beyond the limit of {MAX_KEYS_PER_FILE}"
        rows[""] = row("", "truncated", message)
    return {CONFIG_TABLE: list(rows.values())}


def _parse_toml(text: str) -> Any:
    return tomllib.loads(text)


class _Documents(list):
    """The documents of a multi-document YAML stream; their keys get the document index."""


def _parse_yaml(text: str) -> Any:
    docs = list(yaml.load_all(text, Loader=_YAML_LOADER))
    if not docs:
        return None
    return docs[0] if len(docs) == 1 else _Documents(docs)


def _parse_json(text: str) -> Any:
    return json.loads(text)


def _parse_ini(text: str) -> Any:
    # A default_section no file uses turns off DEFAULT propagation: [DEFAULT] is kept as it is.
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, allow_no_value=True, default_section="\x00",
    )
    parser.optionxform = str  # keep option names as written
    parser.read_string(text)
    return {name: dict(parser.items(name, raw=True)) for name in parser.sections()}


def _parse_env(text: str) -> Any:
    values: dict[str, str | None] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export"):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not key:
            continue
        values[key] = _env_value(value.strip()) if sep else None
    return values


def _env_value(value: str) -> str:
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        if end > 0:
            return value[1:end]
        return value
    comment = re.search(r"\s#", value)
    return value[:comment.start()].rstrip() if comment else value


_PARSERS = {
    "toml": _parse_toml, "yaml": _parse_yaml, "json": _parse_json,
    "ini": _parse_ini, "cfg": _parse_ini, "env": _parse_env,
}


def _error_message(exc: BaseException) -> str:
    """`Type: message` without the file content some parsers quote (it may hold secrets)."""
    name = type(exc).__name__
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"{name}: {', '.join(parts) or 'invalid YAML'}{where}"
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"{name}: file contains no section headers (line {exc.lineno})"
    if isinstance(exc, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in exc.errors)
        return f"{name}: unparsable lines {lines}"
    if isinstance(exc, configparser.Error):
        return f"{name}: {exc.message.splitlines()[0] if exc.message else ''}"
    return f"{name}: {exc}"


def _leaves(root: Any) -> Iterator[tuple[str, Any]]:
    """(keypath, leaf value) pairs in document order; iterative, so depth is unbounded.

    The root itself is never an empty-container leaf (no keys: no pairs); a scalar root is the
    leaf ''. A container that contains itself (YAML anchors can build one) is the str leaf
    '<recursive reference>'.
    """
    if isinstance(root, _Documents):
        stack: list[tuple] = [("visit", str(i), doc) for i, doc in reversed(list(enumerate(root)))]
    elif root is None or (_is_container(root) and not root):
        return
    else:
        stack = [("visit", "", root)]
    on_path: set[int] = set()
    while stack:
        entry = stack.pop()
        if entry[0] == "exit":
            on_path.discard(entry[1])
            continue
        _, prefix, value = entry
        if not _is_container(value) or not value:
            yield prefix, value
            continue
        if id(value) in on_path:
            yield prefix, "<recursive reference>"
            continue
        on_path.add(id(value))
        stack.append(("exit", id(value)))
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        children = [("visit", f"{prefix}.{k}" if prefix else str(k), v) for k, v in items]
        stack.extend(reversed(children))


def _is_container(value: Any) -> bool:
    return isinstance(value, (Mapping, list, tuple))


def _describe(value: Any) -> tuple[str, str | None]:
    """(value_type, the value as text, not yet masked nor capped) of a leaf."""
    if value is None:
        return "null", None
    if isinstance(value, bool):
        return "bool", "true" if value else "false"
    if isinstance(value, int):
        return "int", _safe_str(value)
    if isinstance(value, float):
        return "float", _safe_str(value)
    if isinstance(value, str):
        return "str", value
    if isinstance(value, Mapping):
        return "dict", "{}"
    if isinstance(value, (list, tuple)):
        return "list", "[]"
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return "str", value.isoformat()
    return "str", _safe_str(value)


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except ValueError:  # e.g. an int beyond sys.get_int_max_str_digits()
        return f"<{type(value).__name__} too large to print>"


def _cap(text: str, chars: int = PREVIEW_CHARS) -> str:
    return text[:chars]
