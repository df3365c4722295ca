"""SCIP symbol strings parsed per the grammar of the SCIP spec (scip.proto, `Symbol`).

    <symbol>     ::= <scheme> ' ' <package> ' ' (<descriptor>)+ | 'local ' <local-id>
    <package>    ::= <manager> ' ' <package-name> ' ' <version>
    (scheme, manager, package-name, version: any text, a space escaped as two spaces;
     '.' is the placeholder for an empty value)
    <descriptor> ::= <name> '/' (namespace) | <name> '#' (type) | <name> '.' (term)
                   | <name> ':' (meta) | <name> '!' (macro)
                   | <name> '(' <disambiguator>? ').' (method)
                   | '[' <name> ']' (type parameter) | '(' <name> ')' (parameter)
    <name>       ::= <simple-identifier> | '`' text, a backtick escaped as two '`'
    <simple-identifier> ::= ('_' | '+' | '-' | '$' | ASCII letter or digit)+

scip-python writes e.g. ``scip-python python demo 1.0 `pkg.core`/Greeter#greet().(name)``.
No Python package parses these (the SCIP bindings are Go, Rust, TypeScript), hence this
module. Pure; no dagster import.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE, TYPE, TERM, META, MACRO, METHOD, TYPE_PARAMETER, PARAMETER = (
    "/", "#", ".", ":", "!", "().", "[]", "()")
_SUFFIXES = {"/": NAMESPACE, "#": TYPE, ".": TERM, ":": META, "!": MACRO}


@dataclass(frozen=True)
class Descriptor:
    """One descriptor: its unescaped `name`, its `suffix` (one of NAMESPACE, TYPE, TERM, META,
    MACRO, METHOD, TYPE_PARAMETER, PARAMETER) and a method's `disambiguator` ('' if none)."""

    name: str
    suffix: str
    disambiguator: str = ""


@dataclass(frozen=True)
class ScipSymbol:
    """A parsed symbol. For `local N`: is_local, local_id='N', the other fields empty; else
    scheme, manager, package_name, version ('.' placeholders kept) and the descriptors."""

    scheme: str = ""
    manager: str = ""
    package_name: str = ""
    version: str = ""
    descriptors: tuple[Descriptor, ...] = ()
    local_id: str = ""

    @property
    def is_local(self) -> bool:
        return bool(self.local_id)

    @property
    def display_name(self) -> str:
        """The last descriptor's name; a module (scip-python's `pkg.mod`/__init__:) is named
        after its namespace (`pkg.mod`); '' for a local symbol or no descriptors."""
        names = self.descriptors
        if len(names) >= 2 and names[-1] == Descriptor("__init__", META):
            return names[-2].name
        return names[-1].name if names else ""


def parse_symbol(symbol: str) -> ScipSymbol:
    """Parse a SCIP symbol string (grammar in the module docstring).

    Lenient with sloppy writers: a character that starts no descriptor is skipped, a name
    without a suffix is a term, an unterminated escape or parameter runs to the end. Raises ValueError only for a global
    symbol with fewer than the four space-separated header fields.
    """
    if symbol.startswith("local "):
        return ScipSymbol(local_id=symbol[len("local "):])
    fields: list[str] = []
    buf: list[str] = []
    i, n = 0, len(symbol)
    while len(fields) < 4 and i < n:
        if symbol[i] == " ":
            if symbol.startswith("  ", i):  # an escaped space
                buf.append(" ")
                i += 2
                continue
            fields.append("".join(buf))
            buf = []
        else:
            buf.append(symbol[i])
        i += 1
    if len(fields) < 4:
        raise ValueError(f"not a SCIP symbol (needs scheme, manager, package, version): "
                         f"{symbol!r}")
    scheme, manager, package_name, version = fields
    return ScipSymbol(scheme, manager, package_name, version, tuple(_descriptors(symbol[i:])))


def _descriptors(text: str) -> list[Descriptor]:
    out: list[Descriptor] = []
    j, n = 0, len(text)
    while j < n:
        ch = text[j]
        if ch in "([":  # parameter `(name)` or type parameter `[name]`
            close = text.find(")" if ch == "(" else "]", j + 1)
            close = n if close < 0 else close
            out.append(Descriptor(text[j + 1:close], PARAMETER if ch == "(" else TYPE_PARAMETER))
            j = close + 1
            continue
        if ch == "`":
            name, j = _escaped(text, j)
        else:
            k = j
            while k < n and _simple(text[k]):
                k += 1
            if k == j:  # no descriptor starts here: skip the character
                j += 1
                continue
            name, j = text[j:k], k
        if j < n and text[j] == "(":  # method: name '(' disambiguator? ').'
            close = text.find(").", j)
            close = n if close < 0 else close
            out.append(Descriptor(name, METHOD, text[j + 1:close]))
            j = close + 2
        elif j < n and text[j] in _SUFFIXES:
            out.append(Descriptor(name, _SUFFIXES[text[j]]))
            j += 1
        else:  # a name without a suffix (not valid SCIP): keep it as a term
            out.append(Descriptor(name, TERM))
    return out


def _escaped(text: str, j: int) -> tuple[str, int]:
    """(name, index after the closing backtick) of the escaped identifier opening at j."""
    k, buf, n = j + 1, [], len(text)
    while k < n:
        if text[k] == "`":
            if text.startswith("``", k):
                buf.append("`")
                k += 2
                continue
            break
        buf.append(text[k])
        k += 1
    return "".join(buf), k + 1


def _simple(ch: str) -> bool:
    # The spec allows ASCII letters only; non-ASCII letters are accepted too, so a writer that
    # leaves `café` unescaped still parses.
    return ch.isalnum() or ch in "_+-$"
