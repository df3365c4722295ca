"""The runtime call oracle's recorder (benchmark_oracle_record.py loads it into the target's
pytest with `-p codeintel_oracle`, configured by the environment variable CODEINTEL_ORACLE, a
JSON object {"repo": folder, "sources": [folders], "out": folder}).

From pytest_configure to pytest_unconfigure, sys.setprofile (and threading.setprofile) sees
every Python frame entered. A frame whose file lies under one of "sources" (the project's own
code) is a callee; its caller is the nearest frame below it that is the project's own code,
passing over frames outside "repo" (the standard library, site-packages, generated code such as
a dataclass's __init__) and giving up at a frame of "repo" that is not a source (a test calling
back into the project is not the project's call). A generator or coroutine body counts once,
when it starts (the first resumption, at its RESUME 0), not at each later resumption.

Writes "<out>/trace-<pid>.json" at pytest_unconfigure: {"records": [[caller, line, callee,
via]]} with caller and callee as [co_filename, co_qualname, co_firstlineno, co_flags, co_name]
and `via` true when a frame of code outside the repository stood between them. Each xdist
worker writes its own file. Standard library and pytest only; nothing is written elsewhere.
"""

import dis
import json
import os
import sys
import threading

_RESUME = dis.opmap["RESUME"]  # 151 on 3.11 and 3.12, 149 on 3.13; oparg 0 = the body starts
_COROUTINE_FLAGS = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
_SOURCE, _REPO, _OTHER = 1, 2, 3

_state = {}


def _classifier(repo, sources):
    cache = {}

    def kind(filename):
        found = cache.get(filename)
        if found is None:
            path = os.path.realpath(filename) if os.path.isabs(filename) else filename
            if any(path.startswith(s) for s in sources):
                found = _SOURCE
            elif path.startswith(repo):
                found = _REPO
            else:
                found = _OTHER
            cache[filename] = found
        return found
    return kind


def _profiler(kind, records):
    def profile(frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if kind(code.co_filename) != _SOURCE or code.co_name == "<module>":
            return
        if code.co_flags & _COROUTINE_FLAGS and not (
                code.co_code[frame.f_lasti] == _RESUME and code.co_code[frame.f_lasti + 1] == 0):
            return
        caller, via = frame.f_back, False
        while caller is not None:
            where = kind(caller.f_code.co_filename)
            if where == _SOURCE:
                records.add((caller.f_code, caller.f_lineno, code, via))
                return
            if where == _REPO:
                return
            caller, via = caller.f_back, True
    return profile


def _code(code):
    return [code.co_filename, code.co_qualname, code.co_firstlineno, code.co_flags, code.co_name]


def pytest_configure(config):
    settings = json.loads(os.environ.get("CODEINTEL_ORACLE") or "{}")
    if not settings:
        return
    repo = os.path.join(os.path.realpath(settings["repo"]), "")
    sources = tuple(os.path.join(os.path.realpath(s), "") for s in settings["sources"])
    records = set()
    profile = _profiler(_classifier(repo, sources), records)
    _state.update(out=settings["out"], records=records)
    threading.setprofile(profile)
    sys.setprofile(profile)


def pytest_unconfigure(config):
    if "records" not in _state:
        return
    sys.setprofile(None)
    threading.setprofile(None)
    rows = sorted([_code(a), line, _code(b), via] for a, line, b, via in _state.pop("records"))
    path = os.path.join(_state["out"], f"trace-{os.getpid()}.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"records": rows}, fh)
