"""The symbol index from pyrefly: `pyrefly check --report-glean` facts converted to a SCIP index
in scip-python's symbol grammar, so tools/scip_decode.py and everything downstream read it as
they read scip-python's (docs/indexers.md: the measurement, the choice, what is lost).

Symbols (`scip-python python <project> <version> <descriptors>`, names escaped as the SCIP
grammar says, tools/scip_symbols.py):
- a module: `` `pkg.mod`/__init__: ``; a class `` `pkg.mod`/C# ``, a function or method
  `f().` / `C#m().`, a variable or attribute `x.` / `C#x.`; a def or class nested in a function
  continues its function's descriptors (`f().inner().`: Glean's `f.<locals>.inner`);
- a parameter: `f().(x)`; any other name under `<locals>`: `local N`, numbered per document in
  order of definition;
- a name declared in another module: its declaration's symbol (from this run's facts, else from
  the documents of the earlier index an update keeps: tools/glean_symbols.py, which names);
- outside the repository: `scip-python python <top-level module> . `mod`/name.` (every
  descriptor a term: Glean does not say what kind a library name is), the module from the
  target's file.

Occurrences: a declaration's name token (tools/glean_facts.decl_offset) is the definition of
its symbol's first declaration; a later declaration of the same name (a rebinding, a property
setter; a parameter excepted) is a reference with WriteAccess, as scip-python records it;
instance attributes are declared at their first store (tools/glean_attributes.py, B1); a dotted
module path in an import is one occurrence naming the whole module (A1). References come from
XRefsByFile; of the targets pyrefly lists at one span, the first that names a declaration of
the repository wins, else the first outside it. Dropped (docs/indexers.md B3, A4): targets
named after a receiver's class that no class along its bases declares (B2: bases followed
first), targets in a repository file that no declaration has, targets with no file, and
`None`, `True`, `False`. `imp` declarations are skipped: the import's xref at the same token
is the reference. Columns are UTF-8 bytes (Document.position_encoding says so). A class's
in-repository bases are kept as `is_implementation` relationships, which is how a later update
follows bases of classes it did not index.

No dagster import: ToolService.scip_index calls `run_index`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from codeintel_assets.tools import scip_pb2
from codeintel_assets.tools.diagnostics import (
    absolute_executable,
    chunk_paths,
    path_args,
    run_tool,
)
from codeintel_assets.tools.glean_attributes import instance_attributes
from codeintel_assets.tools.isolate import isolate
from codeintel_assets.tools.glean_facts import (
    ByteLines,
    GleanFacts,
    decl_offset,
    read_facts,
)
from codeintel_assets.tools.glean_symbols import (
    Earlier,
    Namer,
    external_symbol,
    known_symbols,
)
from codeintel_assets.tools.pyrefly import config_failure, has_config
from codeintel_assets.tools.registry import PYREFLY, SCIP
from codeintel_assets.tools.runner import ToolCrashError
from codeintel_assets.tools.scip_config import effective_config
from codeintel_assets.tools.scip_index import ScipIndexResult
from codeintel_assets.tools.scip_merge import write_index

INDEXER = "pyrefly"
INDEXER_HELP = ("What builds the SCIP index (core.scip_*): 'pyrefly' (its Glean facts, "
                "converted by tools/glean_scip.py) or 'scip-python'; docs/indexers.md "
                "compares them.")
THREADS_HELP = ("pyrefly --threads for the symbol index (0: pyrefly's choice; fewer threads "
                "bound its memory).")
CONSTANTS = frozenset({"None", "True", "False"})
_WRITE = scip_pb2.WriteAccess


def _converter_digest() -> str:
    """A digest of the converter's source (this module and the glean_* modules it uses): a
    change to how facts become rows must re-index every file, not only the changed ones."""
    from codeintel_assets.tools import glean_attributes, glean_facts, glean_symbols

    h = hashlib.blake2b(digest_size=6)
    for module in (sys.modules[__name__], glean_attributes, glean_facts, glean_symbols):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()


def indexer_version(indexer: str) -> str:
    """`<indexer> <installed version>` of ToolService.symbol_indexer ('pyrefly' or
    'scip-python'), for pyrefly with the converter's source digest: a qualifier of the SCIP
    tables' ledger, so switching either, or changing the converter, re-indexes."""
    if indexer == INDEXER:
        return f"{indexer} {PYREFLY.version()} converter {_converter_digest()}"
    return f"{indexer} {SCIP.version()}"


def convert(facts: GleanFacts, root: str, files: Sequence[str], project_name: str,
            project_version: str, tool_version: str,
            earlier: Earlier | None = None) -> scip_pb2.Index:
    """A SCIP index of `files` (root-relative posix paths; one Document each, empty for a file
    without facts) from `facts`, symbols named as the module docstring says. Source files are
    read from `root` (OSError if one is missing)."""
    wanted = set(files)
    lines: dict[str, ByteLines] = {}

    def byte_lines(rel: str) -> ByteLines:
        if rel not in lines:
            lines[rel] = ByteLines(Path(root, rel).read_bytes())
        return lines[rel]

    # B1 of docs/indexers.md: instance attributes declared at their first `self.x =` store.
    facts = replace(facts, decls=[*facts.decls,
                                  *instance_attributes(facts, wanted, byte_lines)])
    namer = Namer(facts, project_name, project_version,
                  known_symbols(earlier, wanted, project_name, project_version))
    index = scip_pb2.Index()
    index.metadata.tool_info.name = INDEXER
    index.metadata.tool_info.version = tool_version
    index.metadata.project_root = Path(root).resolve().as_uri()
    index.metadata.text_document_encoding = scip_pb2.UTF8
    docs = {rel: _document(index, rel) for rel in sorted(wanted)}
    declared_in = {d.name: d.rel_path for d in facts.decls if d.kind != "imp"}
    locals_: dict[tuple[str, str], str] = {}  # (rel_path, Glean name) -> `local N`
    counts: dict[str, int] = {}
    defined: set[tuple[str, str]] = set()
    for d in sorted(facts.decls, key=lambda d: (d.rel_path, d.start)):
        if d.kind == "imp" or d.rel_path not in wanted:
            continue
        doc, where = docs[d.rel_path], byte_lines(d.rel_path)
        symbol = namer.symbol(d.name, d.rel_path)
        if symbol is None:
            key = (d.rel_path, d.name)
            if key not in locals_:
                counts[d.rel_path] = counts.get(d.rel_path, -1) + 1
                locals_[key] = f"local {counts[d.rel_path]}"
            symbol = locals_[key]
        # `local N` ids restart in every document
        key = (d.rel_path, symbol) if symbol.startswith("local ") else ("", symbol)
        first = key not in defined
        if first:
            defined.add(key)
            info = doc.symbols.add(symbol=symbol)
            for base in facts.bases.get(d.name, ()):
                base_symbol = namer.target(base, declared_in.get)
                if base_symbol:
                    info.relationships.add(symbol=base_symbol, is_implementation=True)
        start = decl_offset(where, d)
        end = start if d.kind == "module" else start + len(d.name.rsplit(".", 1)[-1].encode())
        # A parameter is bound anew by each `def` (a property setter's repeats the getter's).
        _occurrence(doc, where, start, end, symbol, scip_pb2.Definition
                    if first or symbol.endswith(")") else _WRITE)
    externals: set[str] = set()
    repo_file = _repo_files(root)
    # (rel_path, start, length) -> (outside the repository?, symbol): one target a span
    chosen: dict[tuple[str, int, int], tuple[bool, str]] = {}
    targets: dict[tuple[str, str | None], str | None] = {}
    for x in facts.xrefs:
        if x.rel_path not in wanted or x.target in CONSTANTS:
            continue
        span = (x.rel_path, x.start, x.length)
        if span in chosen and not chosen[span][0]:
            continue  # a repository target already chosen
        target = (x.target, x.target_file)  # most targets are referenced many times
        if target not in targets:
            targets[target] = namer.target(x.target, declared_in.get, x.target_file)
        symbol = targets[target] or locals_.get((x.rel_path, x.target))
        if symbol is not None:
            chosen[span] = (False, symbol)
        elif x.target_file and not repo_file(x.target_file) and span not in chosen:
            chosen[span] = (True, external_symbol(x.target, x.target_file))
    _join_import_paths(chosen, byte_lines)
    for (rel, start, length), (outside, symbol) in sorted(chosen.items()):
        if outside:
            externals.add(symbol)
        _occurrence(docs[rel], byte_lines(rel), start, start + length, symbol, 0)
    for symbol in sorted(externals):
        index.external_symbols.add(symbol=symbol)
    return index


def _join_import_paths(chosen: dict, byte_lines: Callable[[str], ByteLines]) -> None:
    """scip-python's shape for a dotted module path in an import statement (docs/indexers.md
    A1): one occurrence from its first component to its last, naming the whole module, where
    Glean has one per component (`pkg` and `pkg.deco` in `from pkg.deco import x`). A chain is
    consecutive module targets one `.` apart on a line that starts with `from` or `import`."""
    modules = {(k[0], k[1]): k for k, v in chosen.items() if v[1].endswith("/__init__:")}
    for span in sorted(modules.values()):
        if span not in chosen:
            continue
        rel, start, length = span
        lines = byte_lines(rel)
        line, _ = lines.pos(start)
        head = lines.data[lines.starts[line - 1]:start].lstrip()
        if not head.startswith((b"from ", b"import ")) and head not in (b"from", b"import"):
            continue
        end, last = start + length, chosen[span]
        while True:
            nxt = modules.get((rel, end + 1))
            if nxt is None or nxt not in chosen or lines.data[end:end + 1] != b".":
                break
            last = chosen.pop(nxt)
            end = nxt[1] + nxt[2]
        if end != start + length:
            del chosen[span]
            chosen[(rel, start, end - start)] = last


def _document(index: scip_pb2.Index, rel: str) -> scip_pb2.Document:
    doc = index.documents.add(relative_path=rel, language="python")
    doc.position_encoding = scip_pb2.UTF8CodeUnitOffsetFromLineStart
    return doc


def _occurrence(doc: scip_pb2.Document, lines: ByteLines, start: int, end: int, symbol: str,
                roles: int) -> None:
    (sl, sc), (el, ec) = lines.pos(start), lines.pos(end)
    rng = [sl - 1, sc, ec] if sl == el else [sl - 1, sc, el - 1, ec]
    doc.occurrences.add(range=rng, symbol=symbol, symbol_roles=roles)


def extra_paths(root: Path) -> list[str]:
    """The target's pyright `extraPaths` (tools/scip_config.effective_config, relative to
    its config's folder) that are folders inside `root`, root-relative: scip-python resolves
    imports through them, and as search paths before `.` they make pyrefly name those
    modules as they are imported (`helpers`, not `support.helpers`)."""
    path, config = effective_config(root)
    paths = config.get("extraPaths")
    out = []
    for p in paths if isinstance(paths, list) else []:
        folder = (path.parent / p).resolve() if isinstance(p, str) else None
        if folder and folder.is_dir() and folder.is_relative_to(root) and folder != root:
            out.append(folder.relative_to(root).as_posix())
    return out


def _repo_files(root: str) -> Callable[[str], bool]:
    seen: dict[str, bool] = {}

    def check(rel: str) -> bool:
        if rel not in seen:
            seen[rel] = not os.path.isabs(rel) and Path(root, rel).is_file()
        return seen[rel]
    return check


def glean_argv(executable: str, root: str, report_dir: str, python: str | None, threads: int,
               files: Sequence[str]) -> list[str]:
    """The `pyrefly check --report-glean` command line of `run_index` (cwd = `root`), also
    what benchmark_indexers times."""
    search = [a for p in (*extra_paths(Path(root).resolve()), ".") for a in ("--search-path", p)]
    return [absolute_executable(executable), "check", "--summary=none", "--progress-bar", "no",
            "--output-format", "min-text", "--report-glean", report_dir, *search,
            *([] if has_config(root) else ["--preset", "default"]),
            *(["--python-interpreter-path", python] if python else []),
            "--threads", str(threads), *path_args(files)]


def run_index(runner, root: str, output: str, project_name: str, project_version: str,
              timeout_s: float, executable: str, python: str | None, files: Sequence[str],
              threads: int = 0, earlier: Earlier | None = None) -> ScipIndexResult:
    """Index `files` (root-relative posix paths) of the project at `root` into the SCIP file
    `output`: `pyrefly check --report-glean <temp dir beside output> --search-path .
    [--preset default] --python-interpreter-path <python> --threads <threads> <files>` with
    cwd=root (nothing in root is written; the facts are deleted after conversion), one run per
    512 KiB of file arguments. pyrefly reports the facts of the named files only and resolves
    their references into every other module, so an update indexes just the files that can
    change; `earlier` (the index it updates) names the targets declared in the files not
    run (`known_symbols`). A run that panics is bisected (tools/isolate.py): the files it
    crashes on alone get empty documents and are `excluded_files`, every other file keeps its
    facts. Raises ToolNotFoundError, TargetCausedError (a configuration pyrefly refuses),
    ToolCrashError (a panic on more than isolate.MAX_CULPRITS files), ToolTimeoutError or
    ToolExecutionError, leaving nothing at `output`."""
    started = time.perf_counter()
    out = Path(output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    chunks = chunk_paths(list(files))
    with tempfile.TemporaryDirectory(prefix=".glean-", dir=out.parent) as tmp:
        runs = itertools.count()

        def facts_of(group: list[str]) -> list[dict]:
            """One pyrefly run over `group` into a folder of its own: its facts files (a
            run that crashes leaves none behind that are read)."""
            folder = Path(tmp) / str(next(runs))
            folder.mkdir()
            argv = glean_argv(executable, root, str(folder), python, threads, group)
            run_tool(runner, PYREFLY.name, root, argv, timeout_s, (0, 1),
                     target_failure=config_failure, crash_codes=(101,))
            return [{"path": str(p)} for p in sorted(folder.glob("*.json"))]

        found, culprits, attempts = [], [], 0
        for chunk in chunks:
            attempts += 1
            try:
                found += facts_of(chunk)
            except ToolCrashError as exc:
                isolated = isolate(PYREFLY.name, chunk, facts_of, exc)
                found += isolated.rows
                culprits += [c.rel_path for c in isolated.culprits if not c.rows_kept]
                attempts += isolated.runs
        facts = read_facts([Path(f["path"]) for f in found])
    index = convert(facts, root, files, project_name, project_version, PYREFLY.version(),
                    earlier)
    size = write_index(index, out)
    return ScipIndexResult(output=str(out), size_bytes=size,
                           tool_version=index.metadata.tool_info.version,
                           document_count=len(index.documents), excluded_files=tuple(culprits),
                           attempts=attempts, wall_s=round(time.perf_counter() - started, 3),
                           analysis_failures=0)
