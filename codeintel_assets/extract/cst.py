"""cst_extract: `core.cst_nodes` from one LibCST parse per Python file.

Data comes from LibCST (libcst.parse_module, parsed once per file). Positions are LibCST's
`PositionProvider` ranges; qualified names are the `QualifiedName.name` strings LibCST's
`QualifiedNameProvider` would give, computed the way it computes them
(`scope.get_qualified_names_for(node)` with `ScopeProvider`'s scope of the node) but only
for the few nodes that need one. The providers are run directly rather than through
`MetadataWrapper.resolve_many`, which walks the whole tree several extra times, and the
position pass also collects the recorded nodes (see `cst_metadata.metadata`). Nothing here
imports Dagster, so worker processes load it cheaply.

Units follow the project's (Python `ast`) convention, not LibCST's:

- lines are 1-based; `end_line` is inclusive;
- columns are 0-based UTF-8 *byte* offsets (LibCST counts characters; lines that are not
  ASCII are converted); `end_col` is exclusive;
- positions are syntactic (`PositionProvider`, not the whitespace-inclusive one): a decorated
  def or class starts at `def` / `async` / `class`, not at its first decorator (as `ast`'s
  `lineno`), and the module row spans 1:0 to the end of the last line (as the ast row).

Cost: LibCST is much slower than `ast` (its bare parse alone is about 8x `ast.parse`); with
cst_metadata's shortcuts this extractor takes about 1.7-1.9x the bare `libcst.parse_module` of
the same files in CPU (4.2-4.3x before any, 2.0-2.4x before the id-keyed spans, cached visit
hooks and the position pass collecting the rows' nodes; docs/benchmarks.md "Parse floors"), so
run it through `parallel.run_extractor`, one worker process per core.
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codeintel_assets.extract.cst_metadata import NEWLINE_RE, metadata
from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.lines import CHAR, LineIndex
from codeintel_assets.extract.parallel import FileJob, paused_gc
from codeintel_assets.extract.pysource import read_python

# Bump when the rows this module produces change for unchanged input: stored rows built by
# another version are rebuilt in full (see storage.changes).
VERSION = 1
# Distributions whose installed version changes this module's rows ("python": the
# interpreter); storage.incremental builds the ledger version from VERSION and these.
LIBRARIES = ("libcst",)

TABLE = "core.cst_nodes"

#: LibCST node classes recorded as rows; the row's `kind` is the class name.
RECORDED_KINDS: tuple[str, ...] = (
    "Module", "ClassDef", "FunctionDef", "Decorator", "Call", "Lambda", "Import", "ImportFrom",
    "Assign", "AnnAssign", "AugAssign", "Return", "Raise", "Assert", "Del", "Global", "Nonlocal",
    "If", "For", "While", "Try", "TryStar", "With", "Match", "Yield", "Await",
)
_KIND_OF: dict[type, str] = {getattr(cst, k): k for k in RECORDED_KINDS}

PREVIEW_CHARS = 200


def extract_cst(job: FileJob) -> dict[str, list[dict]]:
    """Rows of `core.cst_nodes` for one Python file: `{"core.cst_nodes": [row, ...]}`.

    One row per LibCST node of a kind in RECORDED_KINDS (definitions, decorators, calls,
    lambdas, imports, simple and compound statements, yield/await), in source order (by start;
    an enclosing node before what it contains). Row columns are exactly the catalog's:

    - `repo`, `commit`, `rel_path`: from `job`;
    - `kind`: LibCST class name (an `async def` is a `FunctionDef`, `async for` a `For`);
    - `start_line`, `start_col`, `end_line`, `end_col`: from LibCST's syntactic
      `PositionProvider`, lines 1-based (end inclusive), columns 0-based UTF-8 byte offsets
      (end exclusive), i.e. Python `ast`'s convention;
    - `node_id`: `{rel_path}:{kind}:{start_line}:{start_col}:{end_line}:{end_col}`, with
      `#2`, `#3`, ... appended to later nodes of the same kind and span (unique per file);
    - `text_preview`: the source text between the start and end positions, at most 200
      characters (so a decorated def's preview starts at `def`);
    - `parent_kinds`: JSON list of the kinds of the enclosing recorded nodes in the LibCST
      tree, outermost first (`["Module", "ClassDef", "FunctionDef"]`; `[]` for the module; a
      Decorator's list ends with the FunctionDef / ClassDef it decorates);
    - `qnames`: JSON sorted list of the `QualifiedName.name` strings LibCST's
      `QualifiedNameProvider` gives for the def's name (ClassDef / FunctionDef: `"C.m"`,
      `"f.<locals>.g"`), a Call's `func`, a Decorator's expression; for Import / ImportFrom,
      the dotted names each alias imports, built as LibCST's import assignments name them
      (`os.path.join`, relative imports keep their dots: `.sibling`, star imports give none);
      `[]` for the other kinds and whenever LibCST resolves no name.

    The file is read with `pysource.read_python` (PEP 263 / UTF-8, BOM dropped, as the ast
    extractor reads it). Parse and read errors propagate; the caller records them per file.

    Qualified names are computed as `QualifiedNameProvider` does (`scope.get_qualified_names_for
    (node)` with the node's `ScopeProvider` scope), but only for the nodes that need them: the
    provider itself walks the whole tree again and builds a lazy value for every node.

    The cyclic garbage collector is paused while the file is processed (LibCST allocates
    hundreds of thousands of objects per file, and the collections they trigger find almost
    nothing yet cost about 15%); it is restored before returning, so the file's few cycles
    (scope objects) are collected later.
    """
    with paused_gc():
        return {TABLE: _rows(job)}


def _rows(job: FileJob) -> list[dict]:
    source = read_python(job.abs_path)
    module = cst.parse_module(source)
    found = metadata(module, _KIND_OF)
    positions, scopes = found.spans, found.scopes

    def qnames(node: cst.CSTNode) -> list[str]:
        scope = scopes.get(node)
        if scope is None:
            return []
        return sorted({q.name for q in scope.get_qualified_names_for(node)})

    # Line starts (character offsets), by LibCST's line numbering.
    line_starts = [0]
    line_starts.extend(m.end() for m in NEWLINE_RE.finditer(source))
    # A final line break does not start another line (as ast counts); an empty file has one.
    last_line = max(1, len(line_starts) - (1 if source.endswith(("\n", "\r")) else 0))
    # LibCST counts columns in characters; stored columns are UTF-8 bytes (only non-ASCII
    # source needs converting).
    lines = None if source.isascii() else LineIndex(source)

    repo, commit, rel_path = job.repo, job.commit, job.rel_path
    rows: list[dict] = []
    parents_json: dict[tuple[str, ...], str] = {}
    for node, kind, parents in found.recorded:
        sl, sc, el, ec = positions[id(node)]
        if kind == "Module":
            # As the ast Module row: 1:0 to the end of the last line (LibCST ends it at
            # (last line + 1, 0) after a final newline, a line that does not exist).
            sl, sc, el = 1, 0, last_line
            ec = len(source[line_starts[el - 1]:].split("\n", 1)[0].rstrip("\r\n"))
        start_off = line_starts[sl - 1] + sc
        end_off = line_starts[el - 1] + ec
        preview = source[start_off:min(end_off, start_off + PREVIEW_CHARS)]
        if lines is not None:
            sc, ec = lines.byte_col(sl, sc, CHAR), lines.byte_col(el, ec, CHAR)

        if kind == "Call":
            names = qnames(node.func)
        elif kind == "FunctionDef" or kind == "ClassDef":
            names = qnames(node.name)
        elif kind == "Decorator":
            names = qnames(node.decorator)
        elif kind == "Import" or kind == "ImportFrom":
            names = _import_names(node)
        else:
            names = []

        parent_json = parents_json.get(parents)
        if parent_json is None:
            parent_json = parents_json[parents] = json_text(list(parents))
        rows.append({
            "repo": repo,
            "commit": commit,
            "rel_path": rel_path,
            "node_id": f"{rel_path}:{kind}:{sl}:{sc}:{el}:{ec}",
            "kind": kind,
            "start_line": sl,
            "start_col": sc,
            "end_line": el,
            "end_col": ec,
            "text_preview": preview,
            "parent_kinds": parent_json,
            "qnames": json_text(names) if names else "[]",  # most rows: no dumps call
        })

    # Source order by span (a decorated def's syntactic start, `def`, follows its decorators);
    # the sort is stable and `recorded` is in pre-order, so an enclosing node with the same
    # start stays first.
    rows.sort(key=_row_order)
    seen_ids: dict[str, int] = {}
    for row in rows:
        node_id = row["node_id"]
        dup = seen_ids.get(node_id)
        seen_ids[node_id] = (dup or 1) + 1
        if dup:
            row["node_id"] = f"{node_id}#{dup}"
    return rows


def _row_order(row: dict) -> tuple[int, int, int, int]:
    return row["start_line"], row["start_col"], -row["end_line"], -row["end_col"]


def _import_names(node: cst.Import | cst.ImportFrom) -> list[str]:
    """Dotted names an import statement imports, as LibCST's ImportAssignment names them.

    `QualifiedNameProvider` has no names for the import statement or its aliases (the scope
    analysis records an import as an assignment and resolves only later *uses* of the bound
    name), so they are built the way `ImportAssignment.get_qualified_names_for` builds them:
    `module.name` for `from module import name [as alias]` (relative dots kept:
    `from . import x` -> `.x`), the dotted name for `import a.b [as c]`; star imports give none.
    """
    aliases = node.names
    if isinstance(aliases, cst.ImportStar):
        return []
    module = ""
    if isinstance(node, cst.ImportFrom):
        if node.module is not None:
            module = get_full_name_for_node(node.module) or ""
        if node.relative:
            module = "." * len(node.relative) + module
    names = set()
    for alias in aliases:
        real = get_full_name_for_node(alias.name)
        if not real:
            continue
        if module.endswith("."):
            names.add(module + real)
        elif module:
            names.add(f"{module}.{real}")
        else:
            names.add(real)
    return sorted(names)
