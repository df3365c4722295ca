"""repo_scan's one pass over a Python file: every `ast`-derived table from one `ast.parse`.

`extract_python` reads the file (PEP 263 / UTF-8), parses it once and walks the tree once
(`pysource.walk` inside `python_ast.ast_rows`), and gives the rows of the tables in TABLES:
core.ast_nodes, core.ast_metrics, core.imports, core.call_sites, core.definition_refs,
analytics.function_metrics, analytics.function_types (python_ast), core.docstrings
(docstrings: the walk's definitions, docstring-parser) and core.string_literals
(config_references: the walk's str constants, masked). Before this pass each of those three
modules parsed and walked the file itself.

Only the tables asked for are built (a subset run of repo_scan writes only its selection);
docstrings and literals alone still need the parse, and a walk of their own.

repo_scan parses every Python file it reads to judge its parse_status: `rows_from_tree`
builds the rows from that tree (scan.scan_file), so a file the scan read is not parsed again;
`extract_python` is for the files the scan did not read (unchanged since the previous scan).
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from functools import partial

from codeintel_assets.extract import config_references, docstrings, python_ast
from codeintel_assets.extract.config_references import (
    LITERALS_TABLE,
    kept_literals,
    literal_rows,
)
from codeintel_assets.extract.docstrings import docstring_rows
from codeintel_assets.extract.parallel import Extractor, FileJob, paused_gc
from codeintel_assets.extract.pysource import Visit, read_python, walk

AST_TABLES = ("core.ast_nodes", "core.ast_metrics", "core.imports", "core.call_sites",
              "core.definition_refs", "analytics.function_metrics",
              "analytics.function_types")
DOCSTRINGS_TABLE = "core.docstrings"
TABLES = (*AST_TABLES, DOCSTRINGS_TABLE, LITERALS_TABLE)

# The ledger version of every table of the pass (storage.incremental): the versions of the
# three modules whose rows it builds, so bumping any of them rebuilds the pass's tables.
VERSION = (f"{python_ast.VERSION}.{docstrings.VERSION}."
           f"{config_references.LITERALS_VERSION}")
# Distributions whose installed version changes the rows ("python": the interpreter).
LIBRARIES = tuple(dict.fromkeys((*python_ast.LIBRARIES, *docstrings.LIBRARIES,
                                  *config_references.LITERALS_LIBRARIES)))


def python_extractor(tables: Collection[str] = TABLES) -> Extractor:
    """A picklable per-file extractor (parallel.run_extractor) building only `tables`
    (a subset of TABLES)."""
    return partial(extract_python, tables=frozenset(tables))


def extract_python(job: FileJob, tables: Collection[str] = TABLES) -> dict[str, list[dict]]:
    """Rows of each table of `tables` (names from TABLES) for `job`'s Python file, from one
    parse: `{table: [row, ...]}`. Decode and parse errors propagate (run_extractor records
    them for the file); the scan only hands over files that parsed.

    The cyclic garbage collector is paused meanwhile: the tree and the rows are hundreds of
    thousands of acyclic objects whose allocations trigger collections that find nothing
    yet cost about a third of the pass (measured on Django); it is restored before returning.
    """
    with paused_gc():
        source = read_python(job.abs_path)
        return _rows(job, source, ast.parse(source, filename=job.rel_path), frozenset(tables))


def rows_from_tree(job: FileJob, source: str, tree: ast.Module,
                   tables: Collection[str] = TABLES) -> dict[str, list[dict]]:
    """`extract_python`'s rows from a tree already parsed: `source` is the file's text as
    `pysource.decode_python` gives it and `tree` its `ast.parse`. Errors propagate."""
    with paused_gc():
        return _rows(job, source, tree, frozenset(tables))


def _rows(job: FileJob, source: str, tree: ast.Module,
          tables: frozenset[str]) -> dict[str, list[dict]]:
    defs: list[Visit] | None = [] if DOCSTRINGS_TABLE in tables else None
    strings: set[str] | None = set() if LITERALS_TABLE in tables else None
    out: dict[str, list[dict]] = {}
    if tables.intersection(AST_TABLES):
        out = python_ast.ast_rows(job, source, tree, defs, strings)
    else:  # no ast table asked for: a bare walk for the definitions and constants
        for visit in walk(tree, job.module or ""):
            node = visit.node
            if type(node) is ast.Constant:
                if strings is not None and type(node.value) is str:
                    strings.add(node.value)
            elif defs is not None and visit.qualname is not None:
                defs.append(visit)
    if defs is not None:
        out[DOCSTRINGS_TABLE] = docstring_rows(job, defs)
    if strings is not None:
        out[LITERALS_TABLE] = literal_rows(job, kept_literals(strings))
    return {name: rows for name, rows in out.items() if name in tables}
