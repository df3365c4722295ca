"""Links between config keys and code: the string literals of Python files
(`core.string_literals`) and the references of `analytics.config_values` rows to them.

`string_literals` / `file_literals` collect the string constants of Python files, masked like
config values; `attach_references` marks each config key with the Python files whose literals
name it, by the same SQL (`storage.derived.REFERENCES_SQL`, run in an in-memory DuckDB) the
pipeline runs inside the warehouse. Rows of core.string_literals are built by repo_scan's
one pass (`extract.python_pass`) and versioned with LITERALS_VERSION. Free of Dagster so worker
processes import it cheaply.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import duckdb
import pyarrow as pa

from codeintel_assets.extract.config_values import CONFIG_TABLE
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.pysource import read_python
from codeintel_assets.extract.redact import redact
from codeintel_assets.storage.catalog import table as catalog_table
from codeintel_assets.storage.derived import references_query
from codeintel_assets.storage.tables import conform

LITERALS_TABLE = "core.string_literals"
# Bump when core.string_literals rows change for unchanged input (python_pass.VERSION holds it).
LITERALS_VERSION = 1
# Distributions whose version changes the literal rows: each literal is masked by redact.py.
LITERALS_LIBRARIES = ("detect-secrets",)
LITERAL_MIN_CHARS = 2
LITERAL_MAX_CHARS = 200


# --------------------------------------------------------------------------------------------
# String literals of Python files


def file_literals(source: str | bytes) -> set[str]:
    """The distinct str constants of Python source, LITERAL_MIN..MAX_CHARS long, not blank.

    Every `ast.Constant` holding a str counts, docstrings and f-string fragments included.
    Source that does not parse (SyntaxError, null bytes, nesting too deep) has no literals.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return kept_literals(node.value for node in ast.walk(tree)
                         if isinstance(node, ast.Constant) and isinstance(node.value, str))


def kept_literals(strings: Iterable[str]) -> set[str]:
    """The strings of `strings` (str constants of one file) that `file_literals` keeps:
    LITERAL_MIN..MAX_CHARS long, not blank."""
    return {s for s in strings
            if LITERAL_MIN_CHARS <= len(s) <= LITERAL_MAX_CHARS and not s.isspace()}


def string_literals(job: FileJob) -> dict[str, list[dict]]:
    """`{"core.string_literals": rows}` for the Python file of `job`: one row per distinct
    literal of `file_literals` after masking credentials in it (`redact.redact` without a key:
    `"postgres://app:***@db/x"`), sorted. A file that cannot be decoded (PEP 263 cookie, else
    UTF-8) or parsed has no rows; OSError propagates.
    """
    try:
        source = read_python(job.abs_path)
    except (UnicodeDecodeError, SyntaxError):
        return {LITERALS_TABLE: []}
    return {LITERALS_TABLE: literal_rows(job, file_literals(source))}


def literal_rows(job: FileJob, literals: Iterable[str]) -> list[dict]:
    """core.string_literals rows of `job`'s file from its kept literals (`kept_literals`):
    each masked (`redact.redact`), distinct, sorted."""
    # Two literals can mask to one text: the set keeps the key (rel_path, literal) unique.
    masked = {redact(literal).text for literal in literals}
    return [{"repo": job.repo, "commit": job.commit, "rel_path": job.rel_path,
             "module": job.module, "literal": literal} for literal in sorted(masked)]


def literal_index(rows: Iterable[Mapping[str, Any]]) -> dict[str, set[tuple[str, str | None]]]:
    """literal -> {(rel_path, module)} from `core.string_literals` rows (the input of
    `attach_references`)."""
    index: dict[str, set[tuple[str, str | None]]] = {}
    for r in rows:
        index.setdefault(r["literal"], set()).add((r["rel_path"], r["module"]))
    return index


# --------------------------------------------------------------------------------------------
# References


def key_names(key: str) -> set[str]:
    """The literals that name a config key: its full keypath and its last segment that is
    neither empty nor all ASCII digits (what REFERENCES_SQL matches on).

    `database.host` -> {database.host, host}; `tool.ruff.lint.select.0` -> {..., select}.
    The key '' (error rows) has no names.
    """
    if not key:
        return set()
    names = {key}
    for segment in reversed(key.split(".")):
        if segment and not (segment.isascii() and segment.isdigit()):
            names.add(segment)
            break
    return names


def attach_references(
    config: pa.Table,
    literals: Mapping[str, Collection[tuple[str, str | None]]],
) -> pa.Table:
    """`config` with reference_paths / reference_modules / reference_count filled in.

    `config` holds `analytics.config_values` rows; `literals` maps a string literal to the
    (rel_path, module) pairs of the Python files containing it (see `literal_index`); both must
    come from the same repository snapshot. A row is referenced by every file having a literal
    in `key_names(key)`. reference_paths is the sorted distinct rel_paths (JSON text),
    reference_modules the sorted distinct non-NULL modules, reference_count the number of
    distinct modules, counting a file without a module by its rel_path. Existing reference
    values are replaced; rows with key '' get none. Returns a new table with the catalog schema.
    """
    literal_rows = pa.table({
        "rel_path": pa.array([p for files in literals.values() for p, _ in files], pa.string()),
        "module": pa.array([m for files in literals.values() for _, m in files], pa.string()),
        "literal": pa.array([lit for lit, files in literals.items() for _ in files], pa.string()),
    })
    ordered = config.append_column("_order", pa.array(range(config.num_rows), pa.int64()))
    with duckdb.connect() as con:
        con.register("new_values", ordered)
        con.register("new_literals", literal_rows)
        out = con.sql(references_query("SELECT * FROM new_values",
                                       "SELECT * FROM new_literals")).to_arrow_table()
    return conform(catalog_table(CONFIG_TABLE), out)
