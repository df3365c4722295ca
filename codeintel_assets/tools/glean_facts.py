"""pyrefly's Glean facts (`pyrefly check --report-glean DIR`): read into typed values, and their
byte spans placed on the positions core.scip_occurrences uses. No dagster import.

`--report-glean DIR` writes one JSON file per module: `[{"schema_id": ...}, {"predicate":
name, "facts": [...]}, ...]` in the schema of Glean's `python.*` predicates (pyrefly 1.4.1).
What is read:

- python.DeclarationLocation.4: every declaration (kind `module`, `cls`, `func`, `variable`,
  `imp`), its dotted name (`pkg.mod.Class.meth`, a function's locals under `<locals>`:
  `pkg.mod.f.<locals>.x`), its file (root-relative posix path) and its span (byte offset from
  the start of the file and byte length; a class or function spans its whole statement,
  decorators excluded; a module spans its file).
- python.DefinitionLocation.4: each class's bases (dotted names) and each function's parameter
  names (positional-only, ordinary, keyword-only, `*args` and `**kwargs`).
- python.xrefs.XRefsByFile.1: every reference's source span and target (dotted name, and the
  target's file: root-relative for the repository's files, relative to its search path for a
  library's or typeshed's, absent for a name pyrefly could not place).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

Pos = tuple[str, int, int]  # (rel_path, 1-based line, 0-based UTF-8 byte column)


@dataclass(frozen=True)
class Decl:
    """One declaration: kind (module | cls | func | variable | imp), dotted name, rel_path,
    span start and length in bytes."""

    kind: str
    name: str
    rel_path: str
    start: int
    length: int


@dataclass(frozen=True)
class XRef:
    """One reference: rel_path of the file it is in, span start and length (bytes), the
    target's dotted name and its file (None when pyrefly gives none)."""

    rel_path: str
    start: int
    length: int
    target: str
    target_file: str | None


@dataclass
class GleanFacts:
    """The facts of one report. bases: class name -> its bases' names, in order; params:
    function name -> its parameter names."""

    decls: list[Decl] = field(default_factory=list)
    xrefs: list[XRef] = field(default_factory=list)
    bases: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)


_PARAM_FIELDS = ("posonly_params", "params", "kwonly_params")


def read_facts(paths: Iterable[Path]) -> GleanFacts:
    """The facts of the Glean JSON files at `paths` (one per module). Raises OSError or
    ValueError (json) for an unreadable file, KeyError for one not in the schema above."""
    out = GleanFacts()
    for path in paths:
        read_file(path, out)
    return out


_WANTED = ("python.DeclarationLocation.4", "python.DefinitionLocation.4",
           "python.xrefs.XRefsByFile.1")
_DECODER = json.JSONDecoder()


def _predicates(text: str):
    """The predicates of one file that `read_file` reads, as dicts. pyrefly writes compact
    JSON, one `{"predicate":"<name>",...}` object per predicate: only the wanted ones are
    decoded (raw_decode from where each starts; a string value cannot hold that text
    unescaped), which skips the six tenths of the bytes no table needs. Any other layout is
    parsed whole."""
    if '{"predicate":"' not in text:
        yield from json.loads(text)[1:]
        return
    for name in _WANTED:
        marker = '{"predicate":"%s"' % name
        at = text.find(marker)
        while at >= 0:
            pred, end = _DECODER.raw_decode(text, at)
            yield pred
            at = text.find(marker, end)


def read_file(path: Path, out: GleanFacts) -> None:
    """Add the facts of one Glean JSON file to `out`."""
    for pred in _predicates(path.read_bytes().decode()):
        name = pred.get("predicate")
        if name == "python.DeclarationLocation.4":
            for fact in pred["facts"]:
                key = fact["key"]
                (kind, decl), = key["declaration"].items()
                named = decl["key"].get("name") or decl["key"].get("as_name")
                out.decls.append(Decl(kind, named["key"], key["file"]["key"],
                                      key["span"]["start"], key["span"]["length"]))
        elif name == "python.DefinitionLocation.4":
            for fact in pred["facts"]:
                (kind, definition), = fact["key"]["definition"].items()
                body = definition["key"]
                if kind == "cls":
                    out.bases[body["declaration"]["key"]["name"]["key"]] = [
                        b["key"]["name"]["key"] for b in body.get("bases", [])]
                elif kind == "func":
                    names = [p["name"]["key"] for f in _PARAM_FIELDS for p in body.get(f, [])]
                    names += [body[f]["name"]["key"] for f in ("star_arg", "star_kwarg")
                              if isinstance(body.get(f), dict) and "name" in body[f]]
                    out.params[body["declaration"]["key"]["name"]["key"]] = tuple(names)
        elif name == "python.xrefs.XRefsByFile.1":
            for fact in pred["facts"]:
                rel = fact["key"]["file"]["key"]
                out.xrefs.extend(
                    XRef(rel, x["source"]["start"], x["source"]["length"],
                         x["target"]["name"]["key"], x["target"].get("file", {}).get("key"))
                    for x in fact["key"]["xrefs"])


class ByteLines:
    """Byte offset -> (1-based line, byte column) of one file, lines ending as ast ends them."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = [0] + [m.end() for m in re.finditer(rb"\r\n|\r|\n", data)]

    def pos(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]


_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
                  + bytes(range(0x80, 0x100)))  # a non-ASCII byte is part of an identifier
# A class or function statement's name: the identifier after `class`/`def` (one pattern for
# every name; compiling one per name cost more than the whole search).
_DEF_NAME = re.compile(rb"(?:class|def)\s+([\w\x80-\xff]+)")


def decl_offset(lines: ByteLines, decl: Decl) -> int:
    """Byte offset of a declaration's name token: 0 for a module (SCIP's place for it); for a
    class or function, the name after `class`/`def` (the span starts at the statement); for
    anything else, the first whole-word occurrence of its last name component inside (or
    just after) its span; the span's start when the name is not found. The search window is
    [span start, span end + 64) and a name cut by its end counts as whole."""
    if decl.kind == "module":
        return 0
    local = decl.name.rsplit(".", 1)[-1].encode()
    data, end = lines.data, decl.start + max(decl.length, 1) + 64
    if decl.kind in ("cls", "func"):
        for found in _DEF_NAME.finditer(data, decl.start, end):
            if found.group(1) == local:
                return found.start(1)
        return decl.start
    at = data.find(local, decl.start, end)
    while at >= 0:
        after = at + len(local)
        if (at == 0 or data[at - 1] not in _WORD) and (after >= min(end, len(data))
                                                        or data[after] not in _WORD):
            return at
        at = data.find(local, at + 1, end)
    return decl.start


def inherited(target: str, bases: dict[str, list[str]], declared) -> str | None:
    """pyrefly names an attribute reference after the receiver's class (`Sub.meth` for a
    method `Base` declares): the name `owner.attr` of the first class along `owner`'s bases
    (breadth first) for which `declared(name)` holds; None if none."""
    owner, _, attr = target.rpartition(".")
    queue, seen = list(bases.get(owner, ())), set()
    while queue:
        base = queue.pop(0)
        if base in seen:
            continue
        seen.add(base)
        if declared(f"{base}.{attr}"):
            return f"{base}.{attr}"
        queue.extend(bases.get(base, ()))
    return None
