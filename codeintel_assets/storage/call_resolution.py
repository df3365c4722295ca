"""Call-site resolution beyond the linker's references (storage/call_linker.py), for
storage/callgraph.py: the callee SCIP names at a call's name token, and parameter flow (a call
through a parameter reaches the definitions its callers pass there). No DuckDB."""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from codeintel_assets.extract.naming import implementation_name
from codeintel_assets.extract.pysource import OVERLOAD_MARK
from codeintel_assets.storage import call_items
from codeintel_assets.storage.call_linker import Callee, Linker, decode

_FLOW_ROUNDS = 3  # parameter-flow rounds (a function passed on through parameters)


def site_param(refs: list[dict]) -> dict | None:
    """The parameter reference a call site reads, if any: the parameter, its item or
    attribute (`fn()`, `fns[0]()`, `sink.write()`; no call on the way: a parameter's result is
    not followed), marked `default` when the site's other callees are its default's."""
    param = next((r for r in refs if r["mode"] == "param" and "()" not in r["attr"]), None)
    if param is not None and any(r.get("default") for r in refs):
        param = {**param, "default": True}
    return param


def parameter_flow(resolved: list[tuple[dict, list[Callee], dict | None]], linker: Linker
                    ) -> list[tuple[dict, list[Callee], dict | None]]:
    """Resolve calls through a parameter from the arguments the function's resolved callers
    pass at that position or keyword (a bound method's self shifts positions): one callee per
    definition passed there. Rounds repeat while they resolve more (a parameter passed on as
    another's argument: `def outer(fn): inner(fn)`), at most _FLOW_ROUNDS."""
    resolved = list(resolved)
    # Only sites reading a parameter change; the callers of each function are indexed once
    # and kept current as those sites resolve (django: 5,000 of 236,000 sites).
    flowing = [i for i, (_, _, param) in enumerate(resolved)
               if param is not None and param["ref"] in linker.defs]
    calls_to: dict[Decimal, dict[int, dict]] = {}  # callee GOID -> index -> caller site
    for i, (site, callees, _) in enumerate(resolved):
        _index_calls(calls_to, i, site, callees)
    for _ in range(_FLOW_ROUNDS):
        updates, passed = {}, {}  # passed: a parameter's answer this round
        for i in flowing:
            site, callees, param = resolved[i]
            # a parameter's default (`strategy=flat`) is one value; the callers pass others
            default = param.get("default", False)
            if callees[0].goid is None or default:
                key = tuple(sorted(param.items()))
                if key not in passed:
                    passed[key] = _passed(param, calls_to, linker)
                got = passed[key]
                if default:
                    got = [c for c in got if c.goid not in {d.goid for d in callees}]
                if got:
                    updates[i] = (site, got + callees[not default:], param)
        if not updates:
            break
        for i, update in updates.items():  # the next round reads this round's answers
            _index_calls(calls_to, i, None, resolved[i][1])
            resolved[i] = update
            _index_calls(calls_to, i, update[0], update[1])
    return resolved


def _index_calls(calls_to: dict[Decimal, dict[int, dict]], index: int, site: dict | None,
                 callees: list[Callee]) -> None:
    """Record site `index` as a caller of each of its direct callees (`site` None: forget
    it)."""
    for callee in callees:
        if callee.goid is not None and not callee.implicit:
            if site is None:
                calls_to.get(callee.goid, {}).pop(index, None)
            else:
                calls_to.setdefault(callee.goid, {})[index] = site


def _passed(param: dict, calls_to: dict[Decimal, dict[int, dict]], linker: Linker, depth: int = 0
            ) -> list[Callee]:
    """The definitions the resolved callers of `param`'s function pass for it (a caller
    passing something unknown there adds nothing: the known ones are still called). A caller
    spreading its own `*args` into a `*args` (`super().__init__(name, *children)`) passes
    what its callers pass there (at most _FLOW_ROUNDS such steps)."""
    fn_goid, fn_kind = linker.defs[param["ref"]]
    params = linker.params(param["ref"])
    shift = 1 if fn_kind == "method" and params[:1] in (["self"], ["cls"]) else 0
    passed: dict[Decimal, Callee] = {}
    star, attr = param.get("star"), param["attr"]
    if star:  # `*args`: each argument from its index on is one item of the tuple
        if not attr.startswith("[") or "]" not in attr:
            return []
        attr = attr.partition("]")[2]
    for caller_site in calls_to.get(fn_goid, {}).values():
        for arg in _decoded(caller_site["args"]):
            if arg.get("spread"):
                if star and depth < _FLOW_ROUNDS:
                    for r in arg["refs"]:
                        if r["ref"] in linker.defs:
                            forwarded = _passed({**r, "attr": "[]" + attr}, calls_to, linker,
                                                depth + 1)
                            for c in forwarded:
                                passed.setdefault(c.goid, Callee(c.goid, c.target,
                                                                 "parameter"))
                continue
            if star and arg["pos"] is not None and arg["pos"] + shift >= param["index"] or (
                    not star and (arg["kw"] == param["param"] or (
                        arg["pos"] is not None and param["index"] is not None
                        and arg["pos"] + shift == param["index"]))):
                for r in _argument(arg["refs"], attr, linker):
                    for value in linker.values(r):
                        c = linker.callee(value, "parameter")
                        if c.goid is not None:
                            passed.setdefault(c.goid, c)
    callees = sorted(passed.values(), key=lambda c: c.target)
    if len(callees) > 1:  # each is really called from the site: one edge each
        names = tuple(c.target for c in callees)
        callees = [Callee(c.goid, c.target, "parameter_any", names) for c in callees]
    return callees


@functools.lru_cache(maxsize=1 << 16)
def _decoded(args: str | None) -> tuple[dict, ...]:
    """A call site's args JSON, decoded once: parameter flow reads a caller's arguments for
    every parameter of the callee it follows, each round (read-only)."""
    return tuple(decode(args) or ())


def _argument(refs: list[dict], attr: str, linker: Linker) -> list[dict]:
    """What an argument's references give a parameter read as `attr` ('' the parameter
    itself, `[]`... an item of it): a container's items (`item` refs), or the items of a
    container the argument names."""
    if not attr:
        return [r for r in refs if "item" not in r]
    plain = [{**r, "attr": r["attr"] + attr} for r in refs if "item" not in r]
    if not attr.startswith("["):  # `sink.write`: a container's items are no receiver
        return call_items.expand(plain, linker)
    after = attr.partition("]")[2]  # `for h in handlers: h.run()`: `.run` of each item
    return [{**{k: v for k, v in r.items() if k != "item"}, "attr": r["attr"] + after}
            for r in refs if "item" in r] + call_items.expand(plain, linker)


def scip_callee(goid_row: dict | None, linker: Linker) -> Callee | None:
    """The callee of the GOID SCIP names at a call's name token (None: SCIP decides nothing).
    A module is never a callee: scip-python names the module at star-imported names. A name
    defined twice (`f`, `f#2`) has one SCIP symbol, the first definition's: the static rules
    choose between them. A class means its constructor. pyright prefers a stub to the .py
    beside it, which is what runs: a shadowed stub's definition means what its name is bound
    to in the implementation (through re-exports), else nothing. pyright's symbol of an
    overloaded name is defined at its first signature: an @overload signature means the
    implementation, which has the plain qualname."""
    if goid_row is None or goid_row["kind"] not in ("function", "method", "class"):
        return None
    qualname = goid_row["qualname"]
    if goid_row["shadowed_stub"]:
        callee = linker.callee(linker.dotted(implementation_name(qualname, goid_row["module"])),
                               "scip")
        return callee if callee.goid is not None else None
    if goid_row["is_overload"]:
        callee = linker.callee(linker.dotted(qualname.rsplit(OVERLOAD_MARK, 1)[0]), "scip")
        return callee if callee.goid is not None else None
    if qualname in linker.latest:
        return None
    if goid_row["kind"] == "class":
        return linker.callee(linker.dotted(qualname), "scip")
    return Callee(goid_row["goid"], qualname, "scip")


def scip_dotted(symbol: str) -> str:
    """The dotted name of a SCIP symbol's descriptors:
    `scip-python python python-stdlib 3.11 builtins/str#join().` -> `builtins.str.join`."""
    parts = symbol.split(" ", 4)
    descriptors = re.sub(r"\([^)]*\)", "", parts[4] if len(parts) == 5 else symbol)
    names = [n.strip("`") for n in re.split(r"[/#.:!\[\]]", descriptors)]
    return ".".join(n for n in names if n)
