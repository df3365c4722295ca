"""Items of containers across files, for the call graph: a reference whose attribute path
reads an item (`[]` any item, `["key"]` or `[0]` one, extract/call_values.py) of a module-level
container (`COMMANDS = {"add": cmd_add}` in another module), of what a function returns
(`return load, parse`) or of an instance's attribute declared a container (`children:
list[NL]`), replaced by the references of the items stored there. The items come
from core.definition_refs: `value_refs` of an alias row and `return_refs` of a function, the
entries with an `item` key (the constant key or index; null when unknown). No DuckDB."""

from __future__ import annotations

import json

from codeintel_assets.extract.call_values import INSTANCE_ATTR

_ROUNDS = 3  # nested containers followed at most this deep


def split_items(refs: list[dict] | None) -> tuple[list[dict], list[dict]]:
    """(plain references, item references) of a definition_refs JSON list."""
    refs = refs or []
    return [r for r in refs if "item" not in r], [r for r in refs if "item" in r]


def expand(refs: list[dict], linker) -> list[dict]:
    """`refs` with every item-reading reference replaced by the references of the items it
    may read (none when the container is unknown: the site stays unresolved)."""
    for _ in range(_ROUNDS):
        if not any("[" in r["attr"] for r in refs):
            return refs
        out = []
        for r in refs:  # a parameter's items are bound by parameter flow
            out += _items_of(r, linker) if "[" in r["attr"] and r["mode"] != "param" else [r]
        refs = out
    return [r for r in refs if "[" not in r["attr"] or r["mode"] == "param"]


_KEY = json.JSONDecoder()


def _read_key(rest: str) -> tuple[object, str] | None:
    """(the key, the path after its `]`) of an item step's text after `[` (`"a]b"]...`:
    call_values.key_path writes the key as JSON, which may hold `]`); None when malformed."""
    if rest.startswith("]"):
        return None, rest[1:]
    try:
        key, end = _KEY.raw_decode(rest)
    except ValueError:
        return None
    return (key, rest[end + 1:]) if rest[end:end + 1] == "]" else None


def _items_of(r: dict, linker) -> list[dict]:
    prefix, _, rest = r["attr"].partition("[")
    read = _read_key(rest)
    if read is None:  # not a path call_values writes: no claim, the site stays unresolved
        return []
    key, after = read
    if prefix == "":
        stored = _container(r["ref"], linker)
    elif r["mode"] == "value" and INSTANCE_ATTR.fullmatch(prefix):
        # `node.children[]`: the items the class's attribute declares (alias row items of
        # C.children along C's MRO, extract/call_definitions.attribute_rows)
        stored = _attribute(linker.ref({**r, "attr": prefix.rpartition(".")[0]}),
                            prefix.rpartition(".")[2], linker)
    elif prefix.endswith("()") and r["mode"] == "value":  # `load()[0]`, `tree.walk()[]`
        value = linker.dotted(r["ref"], exact=r.get("exact", False)) if prefix == "()" \
            else linker.ref({**r, "attr": prefix[:-2]})
        facts = linker.facts.get(value.qualname)
        stored = split_items(facts.return_refs if facts else None)[1]
    else:
        stored = []
    keep = {"extra": r["extra"]} if "extra" in r else {}  # a statement's call stays one
    return [{**{k: v for k, v in item.items() if k != "item"},
             "attr": item["attr"] + after, "via": "container_item", **keep}
            for item in stored if key is None or item["item"] is None or item["item"] == key]


def _attribute(value, name: str, linker) -> list[dict]:
    """Items of attribute `name` of an instance `value`, from the first class of its MRO
    declaring them."""
    if value.kind != "instance":
        return []
    for cls in linker.mro(value.qualname):
        if f"{cls}.{name}" in linker.items:
            return linker.items[f"{cls}.{name}"]
    return []


def _container(name: str, linker) -> list[dict]:
    """Items stored in the module-level container `name`, through re-exports."""
    for _ in range(4):
        if name in linker.items:
            return linker.items[name]
        module, _, attr = name.rpartition(".")
        target = linker.imports.get(module, {}).get(attr)
        if target is None or target == name:
            return []
        name = target
    return []
