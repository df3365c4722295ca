"""Occurrences of scip-python and pyrefly's Glean facts in one shape, and their agreement.

Used by benchmark_indexers (issue 19): positions are (rel_path, 1-based line, 0-based UTF-8 byte
column), the convention of core.scip_occurrences. No dagster import.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from codeintel_assets.extract.pysource import name_position, read_python
from codeintel_assets.tools.glean_facts import (
    ByteLines,
    Pos,
    decl_offset,
    inherited,
    read_facts,
)

# ---- one shape for both: positions -------------------------------------------------------

UNRESOLVED = "unresolved"


@dataclass
class Index:
    """What one indexer says about the files: `defs` maps each definition position to the
    indexer's own symbol name; `refs` maps each reference position to the definitions it
    names: a Pos inside the repository, 'ext:<last name>' for one outside it, or UNRESOLVED
    (scip-python: a `local N` never defined; Glean: a name no declaration has, in a repository
    file or in none)."""

    defs: dict[Pos, str] = field(default_factory=dict)
    refs: dict[Pos, set] = field(default_factory=lambda: defaultdict(set))
    ref_names: dict[Pos, str] = field(default_factory=dict)
    inherited: int = 0  # Glean references resolved through the class bases (see glean_positions)


def scip_positions(index_path: Path, root: Path, scanned: set[str]) -> Index:
    """The occurrences core.scip_occurrences would hold (scip_decode.decode, filtered to the
    scanned files as scip_ingest does) as an Index; a symbol's definition site is its first
    definition occurrence (per document for `local N`)."""
    from codeintel_assets.tools.scip_decode import decode
    from codeintel_assets.tools.scip_symbols import parse_symbol

    _, rows = decode(str(index_path), str(root))
    first: dict[tuple[str, str], Pos] = {}
    for r in rows:
        if r["is_definition"]:
            key = _scip_key(r["symbol"], r["rel_path"])
            pos = (r["rel_path"], r["start_line"], r["start_col"])
            first[key] = min(first.get(key, pos), pos)
    out = Index()
    for r in rows:
        if r["rel_path"] not in scanned:
            continue
        pos = (r["rel_path"], r["start_line"], r["start_col"])
        if r["is_definition"]:
            out.defs.setdefault(pos, r["symbol"])
            continue
        site = first.get(_scip_key(r["symbol"], r["rel_path"]))
        if site is None and r["symbol"].startswith("local "):
            site = UNRESOLVED  # scip-python's placeholder for a name it could not resolve
        elif site is None:
            try:
                site = "ext:" + parse_symbol(r["symbol"]).display_name
            except ValueError:
                site = "ext:?"
        out.refs[pos].add(site)
        out.ref_names.setdefault(pos, r["symbol"])
    return out


def _scip_key(symbol: str, rel_path: str) -> tuple[str, str]:
    return (symbol, rel_path if symbol.startswith("local ") else "")


def glean_positions(glean_dir: Path, root: Path, scanned: set[str],
                    inherit: bool = True) -> Index:
    """pyrefly's Glean facts (tools/glean_facts.read_facts) as an Index.

    Definitions: each declaration's name token (tools/glean_facts.decl_offset; a module at
    1:0). `imp` declarations are skipped: SCIP records an import as a reference, and Glean
    has an xref at the same token. References: the target is the definition site of that name
    when the repository declares it, UNRESOLVED when no declaration has that name but its file
    is a repository file (or it has no file: an attribute of an unknown type), else
    'ext:<last component>'. With `inherit`, a name pyrefly gives after the receiver's class
    is looked up along the class bases (glean_facts.inherited), and Index.inherited counts the
    references resolved so."""
    facts = read_facts(sorted(glean_dir.glob("*.json")))
    lines: dict[str, ByteLines] = {}

    def byte_lines(rel: str) -> ByteLines:
        if rel not in lines:
            lines[rel] = ByteLines((root / rel).read_bytes())
        return lines[rel]

    out, site_of = Index(), {}
    for decl in facts.decls:
        if decl.kind == "imp" or decl.rel_path not in scanned:
            continue
        where = byte_lines(decl.rel_path)
        pos = (decl.rel_path, 1, 0) if decl.kind == "module" else (
            decl.rel_path, *where.pos(decl_offset(where, decl)))
        out.defs.setdefault(pos, decl.name)
        site_of[decl.name] = min(site_of.get(decl.name, pos), pos)
    for x in facts.xrefs:
        if x.rel_path not in scanned:
            continue
        line, col = byte_lines(x.rel_path).pos(x.start)
        site = site_of.get(x.target)
        if site is None and inherit:
            base_name = inherited(x.target, facts.bases, site_of.__contains__)
            site = site_of.get(base_name) if base_name else None
            out.inherited += site is not None
        if site is None:
            site = UNRESOLVED if x.target_file in scanned or (
                x.target_file is None and "." in x.target) \
                else "ext:" + x.target.rsplit(".", 1)[-1]
        out.refs[(x.rel_path, line, col)].add(site)
        out.ref_names.setdefault((x.rel_path, line, col), x.target)
    return out


# ---- agreement -----------------------------------------------------------------------------

def syntax_of(root: Path, files: Iterable[str]) -> tuple[dict[Pos, str], list[Pos]]:
    """(what the token at each position is, by `ast`; the name tokens of every class, function
    and method, as core.goids records them). Used to sort differences into categories."""
    kinds: dict[Pos, str] = {}
    names: list[Pos] = []
    for rel in files:
        try:
            text = read_python(str(root / rel))
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for node in ast.walk(tree):
            for pos in _import_tokens(node, lines):
                kinds.setdefault((rel, *pos[:2]), pos[2])
            where = _token(node, lines)
            if where is None:
                continue
            (line, col), kind = where
            kinds.setdefault((rel, line, col), kind)
            if kind in ("class-name", "def-name"):
                names.append((rel, line, col))
        kinds.setdefault((rel, 1, 0), "module")
    return kinds, names


def _token(node: ast.AST, lines: list[str]) -> tuple[tuple[int, int], str] | None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        kind = "class-name" if isinstance(node, ast.ClassDef) else "def-name"
        return name_position(lines, node), kind
    if isinstance(node, ast.Name):
        return (node.lineno, node.col_offset), f"name-{type(node.ctx).__name__.lower()}"
    if isinstance(node, ast.Attribute):
        start = node.end_col_offset - len(node.attr.encode())
        return (node.end_lineno, start), f"attribute-{type(node.ctx).__name__.lower()}"
    if isinstance(node, ast.arg):
        return (node.lineno, node.col_offset), "parameter"
    if isinstance(node, ast.alias):
        return (node.lineno, node.col_offset), "import-name"
    if isinstance(node, ast.keyword) and node.arg:
        return (node.lineno, node.col_offset), "keyword-argument"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.lineno, node.col_offset), "string"
    if isinstance(node, ast.Constant):
        return (node.lineno, node.col_offset), "constant"  # None, True, numbers
    return None


def _import_tokens(node: ast.AST, lines: list[str]) -> list[tuple[int, int, str]]:
    """(line, byte col, kind) of each dotted-path component after `from`/`import` (kind
    'import-module-path') and of each `as` name ('import-alias'); found in the statement's
    text, assuming no line break inside a dotted path."""
    if not isinstance(node, (ast.Import, ast.ImportFrom)):
        return []
    out = []
    head = node.module if isinstance(node, ast.ImportFrom) else None
    paths = [head] if head else []
    if isinstance(node, ast.Import):
        paths += [a.name for a in node.names]
    text = "\n".join(lines[node.lineno - 1:node.end_lineno]).encode()
    starts = [0] + [m.end() for m in re.finditer(rb"\n", text)]
    for path in paths:
        for found in re.finditer(rb"(?<![\w.])" + re.escape(path.encode()) + rb"(?![\w])", text):
            offset = found.start()
            for part in path.split("."):
                line = bisect.bisect_right(starts, offset)
                out.append((node.lineno + line - 1, offset - starts[line - 1],
                            "import-module-path"))
                offset += len(part.encode()) + 1
    for alias in node.names:
        if alias.asname:
            found = re.search(rb"\bas\s+(" + re.escape(alias.asname.encode()) + rb")\b", text)
            if found:
                line = bisect.bisect_right(starts, found.start(1))
                out.append((node.lineno + line - 1, found.start(1) - starts[line - 1],
                            "import-alias"))
    return out


@dataclass
class Agreement:
    """Counts comparing indexer `b` with the reference `a` (scip-python), by position."""

    defs_a: int
    defs_b: int
    defs_both: int
    refs_a: int
    refs_b: int
    refs_both: int
    refs_same_target: int
    refs_both_in_repo: int
    refs_same_in_repo: int
    categories: dict[str, int]
    examples: dict[str, list[str]]


def compare(a: Index, b: Index, kinds: dict[Pos, str], root: Path, examples: int) -> Agreement:
    """Definitions at the same position, references at the same position, and of those the
    ones whose definition sites agree; every difference counted under
    '<what differs>/<token kind>' with up to `examples` source excerpts each."""
    categories: Counter = Counter()
    shown: dict[str, list[str]] = defaultdict(list)

    def note(what: str, pos: Pos, detail: str, targets: Iterable = ()) -> None:
        cat = f"{what}/{kinds.get(pos, 'other-token')}"
        if targets:
            cat += "/" + "+".join(sorted({_target_class(t) for t in targets}))
        categories[cat] += 1
        if len(shown[cat]) < examples:
            shown[cat].append(f"{pos[0]}:{pos[1]}:{pos[2]} {detail} | {_excerpt(root, pos)}")

    for pos in a.defs.keys() - b.defs.keys():
        note("def only scip", pos, a.defs[pos])
    for pos in b.defs.keys() - a.defs.keys():
        note("def only other", pos, b.defs[pos])
    for pos in a.refs.keys() - b.refs.keys():
        note("ref only scip", pos, a.ref_names[pos], a.refs[pos])
    for pos in b.refs.keys() - a.refs.keys():
        note("ref only other", pos, b.ref_names[pos], b.refs[pos])
    both = a.refs.keys() & b.refs.keys()
    same = in_repo = same_in_repo = 0
    for pos in both:
        ta, tb = a.refs[pos], b.refs[pos]
        agree = bool((ta & tb) - {UNRESOLVED})  # both unresolved is no agreement
        same += agree
        local_a = {t for t in ta if isinstance(t, tuple)}
        local_b = {t for t in tb if isinstance(t, tuple)}
        if local_a and local_b:
            in_repo += 1
            same_in_repo += bool(local_a & local_b)
        if not agree:
            classes = "+".join(sorted({_target_class(t) for t in ta})) + " vs " + \
                "+".join(sorted({_target_class(t) for t in tb}))
            note(f"ref target differs ({classes})", pos, f"scip {a.ref_names[pos]} -> "
                 f"{sorted(map(str, ta))}; other {b.ref_names[pos]} -> {sorted(map(str, tb))}")
    return Agreement(len(a.defs), len(b.defs), len(a.defs.keys() & b.defs.keys()),
                     len(a.refs), len(b.refs), len(both), same, in_repo, same_in_repo,
                     dict(categories.most_common()), dict(shown))


def name_consistency(index: Index, root: Path, examples: int) -> dict:
    """An oracle independent of both tools: of the references whose target is a definition in
    the repository, the share where the identifier at the reference equals the identifier at
    the definition (an `import x as y` alias is the legitimate exception). Module targets
    (1:0) are not checked. Returns checked, consistent, share, examples of mismatches and the
    ten most frequent (reference identifier, definition identifier) mismatches."""
    cache: dict[str, list[bytes]] = {}

    def ident(pos: Pos) -> bytes:
        if pos[0] not in cache:
            cache[pos[0]] = re.split(rb"\r\n|\r|\n", (root / pos[0]).read_bytes())
        lines = cache[pos[0]]
        line = lines[pos[1] - 1] if pos[1] <= len(lines) else b""
        found = _IDENT.match(line, pos[2])
        return found.group(0) if found else b""

    checked = consistent = 0
    shown: list[str] = []
    pairs: Counter = Counter()
    for pos, targets in index.refs.items():
        sites = [t for t in targets if isinstance(t, tuple) and t[1:] != (1, 0)]
        if not sites:
            continue
        checked += 1
        token = ident(pos)
        if any(ident(t) == token for t in sites):
            consistent += 1
            continue
        pairs[f"{token.decode(errors='replace')} -> {ident(sites[0]).decode(errors='replace')}"] += 1
        if len(shown) < examples:
            shown.append(f"{pos[0]}:{pos[1]}:{pos[2]} {index.ref_names.get(pos)} -> "
                         f"{sites[0][0]}:{sites[0][1]} {ident(sites[0]).decode(errors='replace')}"
                         f" | {_excerpt(root, pos)}")
    return {"checked": checked, "consistent": consistent,
            "share": round(consistent / checked, 4) if checked else None, "examples": shown,
            "top_mismatches": dict(pairs.most_common(10))}


_IDENT = re.compile(rb"[\w\x80-\xff]+")


def _target_class(target) -> str:
    if isinstance(target, tuple):
        return "in-repo"
    return UNRESOLVED if target == UNRESOLVED else "external"


def _excerpt(root: Path, pos: Pos) -> str:
    try:
        with open(root / pos[0], "rb") as fh:
            line = fh.read().splitlines()[pos[1] - 1]
    except (OSError, IndexError):
        return ""
    return (line[:pos[2]] + b"\xe2\x80\xb8" + line[pos[2]:]).decode(errors="replace").strip()[:120]


def crosswalk_rate(index: Index, names: list[Pos], scip: bool) -> float | None:
    """Share of class/function/method name tokens holding a global symbol, as CROSSWALK_SQL
    matches them: a definition there, or a reference (a redefinition's name token refers to
    the first definition); SCIP `local N` symbols do not count."""
    def global_at(pos: Pos) -> bool:
        if pos in index.defs:
            return not (scip and index.defs[pos].startswith("local "))
        return any(isinstance(t, tuple) or not scip for t in index.refs.get(pos, ()))
    return round(sum(map(global_at, names)) / len(names), 4) if names else None
