"""Decorator wrappers, for storage/callgraph.py: a call of a decorated function runs the
wrapper its decorator returned (a def nested in the decorator, `functools.wraps` or not), so
the call site reaches that wrapper too (resolved_via 'wrapper'); the wrapper's own call of the
original is parameter flow's edge already (storage/call_resolution.py). No DuckDB.

Where the facts come from: the decorator's call sites (core.call_sites rows with is_decorator:
the decorator's callee and its one argument, the decorated def or what the decorator below it
returned) and the decorator's return_refs (core.definition_refs). Stacked decorators chain: a
call of the def reaches the outermost wrapper, which calls the next one.
"""

from __future__ import annotations

from codeintel_assets.storage.call_linker import Callee, Linker, Value, decode


def add(resolved: list[tuple[dict, list, dict | None]], linker: Linker
        ) -> list[tuple[dict, list, dict | None]]:
    """`resolved` with the outermost wrapper added after every callee that is a decorated
    def (or an inner wrapper) of the repository."""
    wrapped_by: dict[str, str] = {}  # def or inner wrapper -> the wrapper replacing it
    for site, callees, _ in resolved:
        if not site["is_decorator"]:
            continue
        args = decode(site["args"]) or []
        wrapper = _wrapper(callees, linker)
        if wrapper is None or not args:
            continue
        for r in args[0]["refs"]:
            value = linker.ref(r)
            if value.kind in ("function", "method") and value.qualname != wrapper:
                wrapped_by.setdefault(value.qualname, wrapper)
    if not wrapped_by:
        return resolved
    out, wrappers = [], set(wrapped_by.values())
    for site, callees, param in resolved:
        added = {}
        # a wrapper calls the function it was given: the original, not the wrapper again
        if not site["is_decorator"] and site["caller_qualname"] not in wrappers:
            for c in callees:
                outer = _outermost(c.target, wrapped_by) if c.goid is not None else None
                if outer is not None and outer in linker.defs:
                    goid = linker.defs[outer][0]
                    added.setdefault(goid, Callee(goid, outer, "wrapper"))
        if added:  # else the same list: sites share their callee lists (call_edges digests)
            have = {c.goid for c in callees}
            callees = callees + [c for g, c in added.items() if g not in have]
        out.append((site, callees, param))
    return out


def _wrapper(callees: list[Callee], linker: Linker) -> str | None:
    """The def nested in the decorator that calling the decorator returns, if one."""
    for c in callees:
        if c.goid is None or linker.defs.get(c.target, (None, ""))[1] not in (
                "function", "method"):
            continue
        got = linker.call(Value(linker.defs[c.target][1], c.target))
        if got.kind == "function" and got.qualname.startswith(c.target + ".<locals>."):
            return got.qualname
    return None


def _outermost(target: str | None, wrapped_by: dict[str, str]) -> str | None:
    seen, outer = set(), None
    while target in wrapped_by and target not in seen:
        seen.add(target)
        outer = target = wrapped_by[target]
    return outer
