"""Decoding a SCIP index (protobuf, `scip_pb2`) into core.scip_symbols / core.scip_occurrences rows.

What scip-python 0.6.6 writes, and how it is read here:

- Ranges are 0-based; characters are counted in UTF-16 code units (JavaScript string offsets)
  and `Document.position_encoding` is left unset (read as UTF-16; a declared UTF-8 or UTF-32
  encoding is honoured). Columns are converted to the project's convention (0-based UTF-8 byte
  offsets, BOM dropped) through the source file's `extract.lines.LineIndex`.
- `SymbolInformation.kind`, `display_name` and `enclosing_symbol` are never set; `local N` ids
  restart at 0 in every document, and `external_symbols` may hold `local N` entries (for
  builtins it could not resolve).

No dagster import here: the asset module wraps `decode`.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from collections.abc import Collection
from pathlib import Path

from codeintel_assets.extract.lines import UTF8, UTF16, UTF32, LineIndex
from codeintel_assets.tools import scip_pb2
from codeintel_assets.tools.scip_symbols import parse_symbol

_DEFINITION = scip_pb2.Definition
_UNITS = {scip_pb2.UTF8CodeUnitOffsetFromLineStart: UTF8,
          scip_pb2.UTF16CodeUnitOffsetFromLineStart: UTF16,
          scip_pb2.UTF32CodeUnitOffsetFromLineStart: UTF32}


def parse_index(path: str | os.PathLike) -> scip_pb2.Index:
    """The SCIP index at `path`; raises OSError, or google.protobuf DecodeError if unparsable."""
    index = scip_pb2.Index()
    with open(path, "rb") as fh:
        index.ParseFromString(fh.read())
    return index


def decode(path: str, root: str | None = None, occurrences_of: Collection[str] | None = None
           ) -> tuple[list[dict], list[dict]]:
    """(symbol rows, occurrence rows) of the SCIP index at `path`, without repo/commit columns;
    occurrence rows only of the documents of `occurrences_of` (rel_paths) when given (the
    symbol rows, which read every document's definitions, are the same either way).

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
    end_line inclusive, end_col exclusive. Raises OSError / DecodeError for an unreadable index.
    """
    index = parse_index(path)
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
        lines = _line_index(base, rel) if base is not None else None
        unit = _UNITS.get(doc.position_encoding, UTF16)  # unset: scip-python's UTF-16
        rows_wanted = occurrences_of is None or rel in occurrences_of
        for occ in doc.occurrences:
            symbol = occ.symbol
            r = occ.range
            if not symbol or len(r) not in (3, 4):
                continue
            if not rows_wanted and not occ.symbol_roles & _DEFINITION:
                continue  # no row, and no definition to place: most occurrences
            sl, el = r[0] + 1, (r[0] if len(r) == 3 else r[2]) + 1  # 1-based lines
            raw_start, raw_end = r[1], r[-1]
            if lines is None:
                start_col, end_col = raw_start, raw_end
            else:
                start_col = lines.byte_col(sl, raw_start, unit)
                end_col = lines.byte_col(el, raw_end, unit)
            if rows_wanted:
                key = (rel, sl, start_col, symbol)
                row = occurrences.get(key)
                if row is None:
                    occurrences[key] = {
                        "rel_path": rel, "start_line": sl, "start_col": start_col,
                        "symbol": symbol, "end_line": el, "end_col": end_col,
                        "symbol_roles": occ.symbol_roles,
                        "is_definition": bool(occ.symbol_roles & _DEFINITION),
                    }
                else:
                    row["symbol_roles"] |= occ.symbol_roles
                    row["is_definition"] = bool(row["symbol_roles"] & _DEFINITION)
            if not occ.symbol_roles & _DEFINITION:
                continue
            where = (rel, sl, start_col)
            if symbol.startswith("local "):
                dkey = (symbol, rel)
                if dkey not in definitions or where < definitions[dkey]:
                    definitions[dkey] = where
                    if lines is not None and sl == el:
                        local_names[dkey] = lines.text(sl, raw_start, raw_end, unit)
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
                row["display_name"] = _display_name(symbol)
        row.pop("_declared_in", None)
        row["def_rel_path"], row["def_line"], row["def_col"] = where or (None, None, None)
        symbols.append(row)
    return symbols, list(occurrences.values())


def _display_name(symbol: str) -> str:
    try:
        return parse_symbol(symbol).display_name
    except ValueError:  # not a well-formed global symbol: no name to show
        return ""


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


def _line_index(base: Path, rel: str) -> LineIndex | None:
    """The file's LineIndex as scip-python counts it (BOM kept), None if unreadable."""
    try:
        return LineIndex.from_bytes((base / rel).read_bytes())
    except OSError:
        return None
