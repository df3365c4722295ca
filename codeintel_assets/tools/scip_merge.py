"""Reading what a crashed scip-python run emitted, and merging SCIP indexes document by document.

scip-python 0.6.6 streams its index: the Metadata first, then one `Index.documents` field per
file as it emits it, then `external_symbols` at the very end. A run that crashes on one file
leaves a prefix of that stream: `read_streamed` keeps its complete fields (the documents
emitted before the crash), so a retry only needs the files not yet emitted
(tools/scip_index.py).

The warehouse keeps one index per repository (`index.scip`), updated by replacing the documents
of the files a change can affect (storage/scip_update.py). `merge` builds it from the documents
kept and the fresh runs, and `canonical` puts every index the warehouse writes in one form, so
that an updated index decodes to the rows a full one does:

- documents sorted by `relative_path` (scip-python emits them in its program's order, which
  depends on the files it was given; tools/scip_decode.py lets the first document that declares
  a symbol fill its row);
- `external_symbols` (SymbolInformation of symbols defined outside the indexed files) reduced to
  the symbols some occurrence of the documents names and no document declares, sorted by
  symbol, one entry per symbol (the first seen).

What `canonical` cannot make equal: scip-python writes an external symbol's documentation from
the hover text at the first reference it visits (`os/` is "(variable) sep: str" after `os.sep`,
the module's docstring after `import os`), so it depends on the files a run indexed. A merged
index keeps the entry it already had; only new external symbols take the fresh run's.
Caveat: external_symbols come last in the stream, so a crashed run's salvaged documents bring
none; an external symbol only they reference then has no SymbolInformation (it keeps its
occurrences).

No dagster import here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from google.protobuf.message import DecodeError

from codeintel_assets.tools import scip_pb2

_LEN = 2  # protobuf wire type of a length-delimited field (every field of Index is one)


class _Truncated(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _Truncated
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def read_streamed(path: str | os.PathLike) -> tuple[scip_pb2.Index, bool]:
    """(the Index made of the complete top-level fields at `path`, whether the file ended on a
    field boundary). A field cut short by a crash, or that does not parse, ends the read; an
    empty or missing file (a crash before the first document) gives an empty Index. Raises
    OSError when the file exists but cannot be read."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return scip_pb2.Index(), True
    index = scip_pb2.Index()
    pos = 0
    while pos < len(data):
        try:
            tag, body = _varint(data, pos)
            length, body = _varint(data, body) if tag & 7 == _LEN else (0, -1)
        except _Truncated:
            return index, False
        end = body + length
        if body < 0 or end > len(data):
            return index, False
        try:
            index.MergeFromString(data[pos:end])  # one field: appends one document
        except DecodeError:
            return index, False
        pos = end
    return index, True


def merge(kept: scip_pb2.Index | None, keep: Callable[[str], bool],
          fresh: Iterable[scip_pb2.Index], take: Callable[[str], bool]) -> scip_pb2.Index:
    """One canonical Index: the documents of `kept` whose relative_path `keep` accepts, then
    those of the `fresh` indexes `take` accepts (the first fresh one with a path wins; a path
    both keep and take is the fresh one). Metadata is the last fresh index's (else kept's);
    external symbols are kept's first, then the fresh ones' (see the module doc)."""
    fresh = list(fresh)
    docs: dict[str, scip_pb2.Document] = {}
    for index in fresh:
        for doc in index.documents:
            if take(doc.relative_path):
                docs.setdefault(doc.relative_path, doc)
    for doc in kept.documents if kept is not None else ():
        if keep(doc.relative_path):
            docs.setdefault(doc.relative_path, doc)
    out = scip_pb2.Index()
    source = fresh[-1] if fresh else kept
    if source is not None:
        out.metadata.CopyFrom(source.metadata)
    out.documents.extend(docs.values())
    externals = [*(kept.external_symbols if kept is not None else ()),
                 *(s for index in fresh for s in index.external_symbols)]
    out.external_symbols.extend(externals)
    return canonical(out)


def canonical(index: scip_pb2.Index) -> scip_pb2.Index:
    """`index` in the warehouse's form (module doc): documents by path, external symbols
    referenced, undeclared, unique and sorted. Returns a new Index."""
    out = scip_pb2.Index()
    out.metadata.CopyFrom(index.metadata)
    docs = sorted(index.documents, key=lambda d: d.relative_path)
    out.documents.extend(docs)
    declared = {s.symbol for d in docs for s in d.symbols}
    named = {o.symbol for d in docs for o in d.occurrences}
    externals: dict[str, scip_pb2.SymbolInformation] = {}
    for info in index.external_symbols:
        if info.symbol in named and info.symbol not in declared:
            externals.setdefault(info.symbol, info)
    out.external_symbols.extend(externals[s] for s in sorted(externals))
    return out


def write_index(index: scip_pb2.Index, path: str | os.PathLike) -> int:
    """Write `index` to `path` atomically (a sibling temporary file renamed over it); returns
    the size in bytes."""
    target = Path(path)
    tmp = target.with_name(target.name + ".merging")
    data = index.SerializeToString()
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return len(data)


def index_digest(path: str | os.PathLike) -> str:
    """A digest of the index file's bytes (hex): what core.scip_symbols, decoded from the
    whole index, was built from. Raises OSError."""
    return hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()


def previous_index(path: str | os.PathLike) -> scip_pb2.Index | None:
    """The warehouse's index at `path`, None when it is missing or does not parse (the next
    update is then a full index)."""
    try:
        index = scip_pb2.Index()
        index.ParseFromString(Path(path).read_bytes())
        return index
    except (OSError, DecodeError):
        return None


@dataclass(frozen=True)
class IndexUpdate:
    """What `update_index` wrote: the index's size_bytes, tool_version and document_count;
    excluded_files, attempts, salvaged_documents and wall_s of the scip-python run (empty, 0
    and 0.0 when none ran); kept_failures: files of the scan kept from earlier runs that have
    no document (scip-python crashed on them then, or never emitted them)."""

    size_bytes: int
    tool_version: str
    document_count: int
    excluded_files: tuple[str, ...]
    attempts: int
    salvaged_documents: int
    wall_s: float
    kept_failures: tuple[str, ...]


class IndexRun(Protocol):
    """What `update_index` reads of a scip-python run (scip_index.ScipIndexResult, which
    imports this module)."""

    excluded_files: tuple[str, ...]
    attempts: int
    salvaged_documents: int
    wall_s: float


# index(files, output): scip-python on `files` into `output` (ToolService.scip_index)
IndexFn = Callable[[list[str], str], IndexRun]


def update_index(path: str, previous: scip_pb2.Index | None, full: bool,
                 files: Sequence[str], keeps: Callable[[str], bool], current: Collection[str],
                 index: IndexFn) -> IndexUpdate:
    """Bring the warehouse's index at `path` up to date: index `files` (every Python file of
    `current` on a `full` update; maybe none otherwise) into a sibling file and write `path`
    (`merge`): on a full update, the fresh documents of `current`'s files; else `previous`'s
    documents of the files of `current` that `keeps` accepts, and the fresh documents of
    `files` (others the run emitted, files the indexed ones import, are left out: the kept
    ones stand). Raises what `index` raises, leaving `path` as it was."""
    run, fresh = None, []
    here = frozenset(current)
    if not full and not files and previous is not None and \
            all(d.relative_path in here and keeps(d.relative_path) for d in previous.documents):
        # Nothing to index and every document stands: the merge would be `previous` itself.
        names = {d.relative_path for d in previous.documents}
        return IndexUpdate(Path(path).stat().st_size, previous.metadata.tool_info.version,
                           len(names), (), 0, 0, 0.0,
                           tuple(sorted(p for p in current if keeps(p) and p not in names)))
    if files:
        scratch = f"{path}.update"
        run = index(list(files), scratch)
        fresh = [previous_index(scratch)]
        Path(scratch).unlink(missing_ok=True)
        if fresh[0] is None:
            raise OSError(f"scip-python's index at {scratch} does not parse")
    # Only documents of the scan's files: scip-python also emits the files the indexed ones
    # import, which a full run lists anyway and an update must not take (they are kept).
    wanted = here if full else frozenset(files)
    merged = merge(None if full else previous, lambda p: p in here and keeps(p), fresh,
                   wanted.__contains__)
    if full or files or previous is None or len(merged.documents) != len(previous.documents):
        write_index(merged, path)  # else nothing changed: the index stands as it is
    documents = {d.relative_path for d in merged.documents}
    kept = sorted(p for p in current if not full and keeps(p) and p not in documents)
    return IndexUpdate(Path(path).stat().st_size, merged.metadata.tool_info.version,
                       len(merged.documents), run.excluded_files if run else (),
                       run.attempts if run else 0, run.salvaged_documents if run else 0,
                       run.wall_s if run else 0.0, tuple(kept))
