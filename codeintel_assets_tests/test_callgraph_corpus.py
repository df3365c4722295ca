"""The labelled call-graph corpus (callgraph_corpus/): its shape, its labels checked against
what each program really calls when it runs, and the precision/recall of graph.call_graph_edges
on it (codeintel_assets/benchmark_callgraph.py).

The labels are written by hand; this file keeps them honest independently of the call graph:
each program runs in a subprocess under sys.setprofile, which sees every Python frame entered,
and the edges it records must be exactly the labelled ones after the corpus README's rules:

- the runtime caller is mapped to our caller: a lambda's or comprehension's frame belongs to the
  def (or class, or module) around it, a class body's frame to the class;
- callees that are not definitions (lambdas, comprehensions, class bodies, modules) are dropped;
  a frame is the program's when its file is one of the program's files;
- a call made from outside the program's code (a builtin such as sorted, or a stdlib frame such
  as contextlib's) is recorded at the nearest program frame and flagged "indirect";
- a labelled edge to a class (a class with no __init__ of its own code) runs no frame of ours;
  a labelled edge to a generator function may run nothing at its line (3.11 creates the
  generator without a call event, the first resumption is where it is iterated);
- "traced_callee" names the frame that runs instead of the labelled callee (a decorator's
  wrapper), "via" says the call is indirect, "untraced" says why a true edge is not on this run.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from codeintel_assets.benchmark_callgraph import (
    INIT,
    Edge,
    Program,
    copy_programs,
    evaluate,
    load_corpus,
    score,
)
from codeintel_assets.extract.pysource import walk

CORPUS = Path(__file__).parent / "callgraph_corpus"
PROGRAMS = load_corpus(CORPUS)
IDS = [f"{p.category}/{p.name}" for p in PROGRAMS]

# The targets on in-repo edges; measured (python -m codeintel_assets.benchmark_callgraph):
# with SCIP P 0.991 R 0.925, static rules only P 0.993 R 0.922 (README, "The call graph").
RECALL_FLOOR_STATIC = 0.9
RECALL_FLOOR_SCIP = 0.9
PRECISION_FLOOR = 0.97

SYNTHETIC = {"<lambda>", "<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}
CO_OPTIMIZED = 0x1  # set for function code; unset for module and class bodies
CO_GENERATOR = 0x20

# Runs a program as `python -m <package>.main` would, under sys.setprofile. Writes the distinct
# (caller code, caller line, callee code, indirect) of every call event entering a frame of the
# program, and the __init__ each of the program's classes resolves to.
RUNNER = r'''
import json, os, runpy, sys
root, package, out = sys.argv[1:4]
sys.path.insert(0, root)
prefix = os.path.join(root, package) + os.sep
records, pending = set(), {}

def ours(code):
    return code.co_filename.startswith(prefix)

def key(code):
    return (code.co_filename, code.co_qualname, code.co_firstlineno, code.co_flags)

def profile(frame, event, arg):
    if event == "c_call":
        pending[id(frame)] = pending.get(id(frame), 0) + 1
    elif event in ("c_return", "c_exception"):
        pending[id(frame)] -= 1
    elif event == "call" and ours(frame.f_code):
        caller = frame.f_back
        indirect = caller is not None and pending.get(id(caller), 0) > 0
        while caller is not None and not ours(caller.f_code):
            caller, indirect = caller.f_back, True
        if caller is not None:
            records.add((key(caller.f_code), caller.f_lineno, key(frame.f_code), indirect))

sys.setprofile(profile)
try:
    main_globals = runpy.run_module(package + ".main", run_name="__main__", alter_sys=True)
finally:
    sys.setprofile(None)

inits = {}
def classes(namespace, module_name, filename):
    for value in list(namespace.values()):
        if isinstance(value, type) and value.__module__ == module_name:
            init = getattr(value.__init__, "__code__", None)
            inits[filename + "::" + value.__qualname__] = \
                key(init) if init is not None and ours(init) else None
            classes({k: v for k, v in vars(value).items() if isinstance(v, type)},
                    module_name, filename)
for name, module in list(sys.modules.items()):
    if name == package or name.startswith(package + "."):
        classes(vars(module), name, module.__file__)
classes(main_globals, "__main__", main_globals["__file__"])
with open(out, "w") as fh:
    json.dump({"records": sorted(records), "inits": inits}, fh)
'''


@dataclass(frozen=True)
class Definition:
    """A def or class of a program, package-relative qualname (`#N` included)."""

    qualname: str
    kind: str
    module: str
    start: int  # first decorator's line, as core.goids and co_firstlineno
    end: int
    generator: bool


@dataclass(frozen=True)
class Source:
    """What the program's source says: its definitions and its call sites."""

    definitions: dict[str, Definition]
    modules: dict[str, str]  # file (relative to the package folder) -> module (relative)
    call_sites: frozenset[tuple[str, int]]  # (caller, line)


# Statements that call the program's code with no ast.Call of their own: `with` (__enter__,
# __exit__), `for` and comprehensions (__iter__, __next__), `raise X` (X's __init__).
IMPLICIT_SITES = (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.Raise, ast.ListComp,
                  ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _relative(qualname: str, package: str) -> str:
    return INIT if qualname == package else qualname[len(package) + 1:]


def _is_generator(node: ast.AST) -> bool:
    """A yield in the def's own body (not in a nested def, class or lambda)."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                  ast.Lambda)):
            stack.extend(ast.iter_child_nodes(child))
    return False


def read_source(program: Program) -> Source:
    """Definitions (qualnames by extract.pysource's rules) and call sites (the end of the callee
    expression; a decorator's line for a bare decorator and for a factory's result)."""
    definitions, modules, sites = {}, {}, set()
    for path in sorted(program.path.rglob("*.py")):
        rel = path.relative_to(program.path)
        parts = list(rel.with_suffix("").parts)
        module = ".".join([program.package, *(parts[:-1] if parts[-1] == INIT else parts)])
        modules[str(rel)] = _relative(module, program.package)
        for visit in walk(ast.parse(path.read_text(encoding="utf-8")), module):
            node, scope = visit.node, _relative(visit.scope.qualname, program.package)
            if isinstance(node, ast.Call):
                sites.add((scope, node.func.end_lineno))
            elif isinstance(node, IMPLICIT_SITES):  # with, for, raise X: calls at the statement
                sites.add((scope, node.lineno))
            elif isinstance(node, (ast.Attribute, ast.BinOp, ast.Compare, ast.UnaryOp, ast.Name,
                                   ast.Subscript, ast.FormattedValue)):
                sites.add((scope, node.end_lineno))  # a property or a dunder: at the expression
            if visit.kind in ("class", "function", "method"):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                qualname = _relative(visit.qualname, program.package)
                definitions[qualname] = Definition(qualname, visit.kind, modules[str(rel)],
                                                   start, node.end_lineno, _is_generator(node))
                sites.update((scope, d.end_lineno) for d in node.decorator_list)
    return Source(definitions, modules, frozenset(sites))


def _base(qualname: str) -> str:
    return qualname.partition("#")[0]


class Mapper:
    """Runtime code objects -> our package-relative qualnames."""

    def __init__(self, program: Program, root: Path, source: Source) -> None:
        self.folder = root / program.package
        self.source = source
        self.by_start = defaultdict(list)
        for d in source.definitions.values():
            self.by_start[(d.module, d.start)].append(d)

    def module(self, filename: str) -> str:
        return self.source.modules[str(Path(filename).relative_to(self.folder))]

    def qualname(self, code: list, callee: bool) -> str | None:
        filename, co_qualname, firstlineno, flags = code
        module = self.module(filename)
        if co_qualname == "<module>":
            return None if callee else module
        if callee and not flags & CO_OPTIMIZED:  # a class body runs when the class is made
            return None
        parts = co_qualname.split(".")
        synthetic = parts[-1] in SYNTHETIC
        while parts and parts[-1] in SYNTHETIC:
            parts = parts[:-2] if parts[-2:-1] == ["<locals>"] else parts[:-1]
        if synthetic:
            if callee:
                return None
            if not parts:
                return module
            # the def around the lambda: same base qualname, its lines enclose the lambda's
            base = ".".join([module, *parts]) if module != INIT else ".".join(parts)
            found = [d.qualname for d in self.source.definitions.values()
                     if _base(d.qualname) == base and d.start <= firstlineno <= d.end]
        else:
            base = f"{module}.{co_qualname}" if module != INIT else co_qualname
            found = [d.qualname for d in self.by_start[(module, firstlineno)]
                     if _base(d.qualname) == base]
        assert len(found) == 1, (code, found)
        return found[0]


def trace(program: Program, tmp_path: Path) -> tuple[dict, dict, Source]:
    """Run the program under the profiler: {(caller, line, callee): indirect} and
    {class qualname: its __init__'s qualname or None}, package-relative."""
    copy_programs([program], tmp_path)
    out = tmp_path / "trace.json"
    done = subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path), program.package,
                           str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    source = read_source(program)
    mapper = Mapper(program, tmp_path, source)
    edges: dict[tuple[str, int, str], bool] = {}
    for caller, line, callee, indirect in data["records"]:
        target = mapper.qualname(callee, callee=True)
        if target is not None:
            edge = (mapper.qualname(caller, callee=False), line, target)
            edges[edge] = edges.get(edge, True) and indirect  # direct once: direct
    inits = {}
    for key, init in data["inits"].items():
        filename, _, cls = key.partition("::")
        module = mapper.module(filename)
        name = cls if module == INIT else f"{module}.{cls}"
        if name in source.definitions:
            inits[name] = None if init is None else mapper.qualname(init, callee=True)
    return edges, inits, source


# --- the corpus's shape ------------------------------------------------------------------------

def test_corpus_size_and_categories():
    assert len(PROGRAMS) >= 60
    assert len({p.category for p in PROGRAMS}) >= 12
    assert (CORPUS / "README.md").is_file()


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_program_shape_and_label_references(program):
    """Files compile and stay small; main.py has main() and the script guard; every label's
    caller and callee is a definition (or module) of the program, and every edge's line is a
    call site of its caller."""
    labels = program.labels
    assert set(labels) <= {"description", "edges", "external", "implicit", "notes"}
    assert labels["description"] and labels["edges"]
    for path in program.path.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        compile(text, str(path), "exec")
        assert len(text.splitlines()) <= 60, path
    main_py = (program.path / "main.py").read_text(encoding="utf-8")
    assert "def main(" in main_py and 'if __name__ == "__main__":\n    main()' in main_py
    assert (program.path / "__init__.py").is_file()
    source = read_source(program)
    scopes = set(source.definitions) | set(source.modules.values())
    allowed = {"caller", "line", "callee", "untraced", "traced_callee", "via"}
    for entry in labels["edges"] + labels.get("implicit", []):
        assert set(entry) <= allowed, entry
        assert entry["caller"] in scopes, entry
        assert entry["callee"] in source.definitions, entry
        assert entry.get("traced_callee", entry["callee"]) in source.definitions, entry
    for entry in labels["edges"] + labels.get("external", []):
        assert (entry["caller"], entry["line"]) in source.call_sites, entry
    edges = [(e["caller"], e["line"], e["callee"]) for e in labels["edges"]]
    assert len(edges) == len(set(edges)), "duplicate edge labels"


# --- the labels against the program's run -------------------------------------------------------

def _expected_trace(entry: dict, source: Source) -> str | None:
    """Why a labelled entry may be missing from the trace, or None when it must be there."""
    callee = source.definitions[entry["callee"]]
    if "untraced" in entry:
        return entry["untraced"]
    if "traced_callee" not in entry and callee.kind == "class":
        return "constructor of a class without __init__ of its own code"
    return None


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_labels_match_runtime(program, tmp_path):
    traced, inits, source = trace(program, tmp_path)
    edges, implicit = program.labels["edges"], program.labels.get("implicit", [])
    labelled = {}
    for entry in edges + implicit:
        labelled[(entry["caller"], entry["line"], entry.get("traced_callee", entry["callee"]))] = \
            entry
    unlabelled = sorted(set(traced) - set(labelled))
    assert not unlabelled, f"traced, not labelled (edge or implicit): {unlabelled}"
    problems = []
    for key, entry in labelled.items():
        reason = _expected_trace(entry, source)
        generator = source.definitions[key[2]].generator and entry in edges
        if key in traced:
            if "untraced" in entry:
                problems.append(f"marked untraced but traced: {key}")
            if entry in edges and not generator and ("via" in entry) != traced[key]:
                problems.append(f"{key}: traced {'indirect' if traced[key] else 'direct'}, "
                                f"label says {entry.get('via', 'direct')}")
        elif reason is None and not generator:
            problems.append(f"labelled, not traced: {key}")
    for entry in edges:
        callee = source.definitions[entry["callee"]]
        if callee.kind == "class" and callee.qualname in inits:
            assert inits[callee.qualname] is None, f"{entry}: the class runs __init__ " \
                                                   f"{inits[callee.qualname]}"
    assert not problems, problems


# --- the benchmark ------------------------------------------------------------------------------

def test_score_counts_per_category():
    """Scoring on hand-made edges: matches on (caller, line, callee), per caller's category;
    predictions outside the corpus's packages are no claims about it."""
    def program(category, name, edges):
        return Program(category, name, Path(name), {"edges": [
            {"caller": c, "line": n, "callee": e} for c, n, e in edges]})

    programs = [program("calls", "a", [("main.main", 3, "util.f"), ("main.main", 4, "util.g")]),
                program("calls", "b", [("main", 9, "main.main")]),
                program("dispatch", "c", [("main.run", 5, "shapes.Circle.area")])]
    predicted = [Edge("calls__a.main.main", 3, "calls__a.util.f"),         # tp
                 Edge("calls__a.main.main", 4, "calls__a.util.f"),         # fp: wrong callee
                 Edge("calls__b.main", 8, "calls__b.main.main"),           # fp: wrong line
                 Edge("dispatch__c.main.run", 5, "dispatch__c.shapes.Circle.area"),  # tp
                 Edge("elsewhere.mod.f", 1, "elsewhere.mod.g")]            # not the corpus's
    result = score(programs, predicted, scip=False)
    by_category = {c.category: c for c in result.categories}
    assert (by_category["calls"].tp, by_category["calls"].fp, by_category["calls"].fn) == (1, 2, 2)
    assert by_category["calls"].precision == pytest.approx(1 / 3)
    assert by_category["calls"].recall == pytest.approx(1 / 3)
    assert (by_category["dispatch"].precision, by_category["dispatch"].recall) == (1.0, 1.0)
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (2, 2, 2)
    assert Edge("calls__b.main", 9, "calls__b.main.main") in result.false_negatives
    assert Edge("calls__b.main", 8, "calls__b.main.main") in result.false_positives
    empty = score(programs, [], scip=True).overall
    assert (empty.precision, empty.recall, empty.fn) == (1.0, 0.0, 4)


def test_benchmark_precision_and_recall(tmp_path):
    """The call graph on the corpus, with SCIP and with static rules only."""
    scores = evaluate(CORPUS, tmp_path)
    for run, floor in ((scores.with_scip, RECALL_FLOOR_SCIP),
                       (scores.without_scip, RECALL_FLOOR_STATIC)):
        assert run.overall.tp > 0, "the call graph predicted no corpus edge"
        assert run.overall.precision >= PRECISION_FLOOR, (run.overall, run.false_positives)
        assert run.overall.recall >= floor, (run.overall, run.false_negatives)
