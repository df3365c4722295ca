"""The runtime call oracle (codeintel_assets/benchmark_oracle.py) end to end on a tiny project:
its suite runs under the recorder, the pipeline indexes it (static rules only, to stay fast),
and every kind of call lands in its kind with the graph's answer."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from codeintel_assets.benchmark_oracle import (
    Options,
    as_json,
    build_parser,
    evaluate,
    format_report,
    load_static,
    score,
)
from codeintel_assets.benchmark_oracle_classify import Classifier, read_facts
from codeintel_assets.benchmark_oracle_record import read_traces
from codeintel_assets_tests.conftest import make_git_repo, readme_commands

CORE = '''import functools


def deco(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


class Base:
    def __init__(self, n):
        self.n = n

    def run(self):
        return self.step() + self.size

    def step(self):
        return 1

    @property
    def size(self):
        return self.n

    def __len__(self):
        return self.n

    def __getattr__(self, name):
        return 0

    def visit(self, name):
        method = getattr(self, f"visit_{name}")
        return method()


class Child(Base):
    def step(self):
        return 2

    def visit_a(self):
        return [helper(i) for i in range(2)]


def helper(x):
    def inner(y):
        return y + 1
    return inner(x)


@deco
def decorated(x):
    return helper(x)


def gen(n):
    for i in range(n):
        yield helper(i)


def key(x):
    return -x


def apply(fn):
    return fn(1)


def main():
    c = Child(3)
    total = c.run() + decorated(1) + sum(gen(2)) + c.visit("a")[0]
    if c:
        total += len(c) + sorted([1, 2], key=key)[0] + c.missing
    return total
'''
TEST = '''from pkg.core import apply, main


def test_main():
    assert main() > 0


def test_callback_from_a_test():
    assert apply(lambda x: x) == 1
'''


def test_oracle_kinds_on_a_tiny_suite(tmp_path):
    repo = make_git_repo(tmp_path / "tiny", {"pkg/__init__.py": "", "pkg/core.py": CORE,
                                             "tests/test_core.py": TEST})
    work = tmp_path / "work"
    report = evaluate(repo, work, Options(python=Path(sys.executable), tools=()))
    # The kinds, judged apart from the graph's answer: the same traces scored against no edges.
    definitions, _ = load_static(work / "static.duckdb")
    blind = score("tiny", read_traces(work / "traces", work / "run"), definitions, set(),
                  Classifier(read_facts(work / "run", {d.path for d in definitions})))
    pairs = {(p.caller.removeprefix("pkg.core."), p.callee.removeprefix("pkg.core.")): p.kind
             for p in blind.misses}
    assert pairs[("Base.run", "Child.step")] == "dispatch"
    assert pairs[("Base.run", "Base.size")] == "property"
    assert pairs[("Base.visit", "Child.visit_a")] == "getattr"
    assert pairs[("main", "Base.__len__")] == "implicit"
    assert pairs[("main", "deco.<locals>.wrapper")] == "wrapper"
    # What the graph finds (static rules): every kind of this program, issues 20 and 27.
    kinds = {k.kind: (k.found, k.total) for k in report.kinds}
    assert kinds == {"plain": (5, 5), "nested": (1, 1), "generator": (1, 1),
                     "dispatch": (1, 1), "property": (1, 1), "implicit": (2, 2),
                     "getattr": (1, 1), "wrapper": (2, 2), "callback": (1, 1)
                     }, format_report(report, True)
    # class bodies and the module's decorator run at import; the comprehension is charged to
    # visit_a; the __getattr__ fallback has no call site; the test's lambda calls nothing of the project
    assert report.excluded == {"import_time": 3, "no_call_site": 1, "not_a_definition": 1}
    assert not report.unmapped
    data = as_json(report)
    assert json.loads(json.dumps(data, sort_keys=True)) == data
    assert data["overall"]["total"] == sum(k["total"] for k in data["kinds"])
    assert "passed" in report.suite
    assert not list((repo).rglob("__pycache__")) and not (repo / ".pytest_cache").exists()


def test_readme_commands_parse():
    """docs/assets.md's oracle commands (the ones the lead re-runs) are valid command lines."""
    commands = readme_commands("codeintel_assets.benchmark_oracle", "docs/assets.md")
    assert len(commands) == 4
    for command in commands:
        argv = shlex.split(command)
        args = build_parser().parse_args(argv[argv.index("codeintel_assets.benchmark_oracle") + 1:])
        assert bool(args.requirement) != bool(args.repo), command
