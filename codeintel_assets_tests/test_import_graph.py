"""import_graph: graph.import_graph_edges and graph.import_modules from a real in-process run
on temp Git repositories, and a cross-check of the internal edges against grimp on a copy of a
real installed package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codeintel_assets import run
from codeintel_assets.storage.graphs import components
from codeintel_assets_tests.conftest import make_git_repo, rows

SELECT = "*graph/import_graph_edges,*graph/import_modules"

FILES = {
    "pkg/__init__.py": "from .util import helper\n",
    "pkg/util.py": "import os.path\n\n\ndef helper():\n    import json\n    import os\n"
                   "    return json, os\n",
    "pkg/a.py": "from __future__ import annotations\n\nfrom typing import TYPE_CHECKING\n\n"
                "from pkg import b\nfrom pkg import helper\n\nif TYPE_CHECKING:\n"
                "    from pkg.models import Model\n",
    "pkg/b.py": "from . import c\nfrom pkg.util import *\n",
    "pkg/c.py": "import pkg.a\nfrom . import c as _self\n",
    "pkg/models.py": "from pkg.util import helper\nimport pkg.sub.deep\nimport yaml\n\n\n"
                     "class Model:\n    pass\n",
    "pkg/sub/__init__.py": "",
    "pkg/sub/deep.py": "import pkg.sub.missing\nfrom typing import TYPE_CHECKING\n"
                       "from .. import util\n\nif TYPE_CHECKING:\n    from ..util import helper\n",
    "script.py": "import pkg\nfrom pkg.sub import deep\nfrom .. import nothing\n",
}

# src, dst: edge_count, is_external, type_checking_only, function_scope_only, src_fan_out,
# dst_fan_in, cycle_group
EDGES = {
    ("pkg", "pkg.util"): (1, False, False, False, 1, 4, None),
    ("pkg.a", "__future__"): (1, True, False, False, 3, 1, None),
    ("pkg.a", "typing"): (1, True, False, False, 3, 2, None),
    ("pkg.a", "pkg.b"): (1, False, False, False, 3, 1, 2),          # `from pkg import b`: a module
    ("pkg.a", "pkg"): (1, False, False, False, 3, 2, None),         # `from pkg import helper`
    ("pkg.a", "pkg.models"): (1, False, True, False, 3, 1, None),   # under TYPE_CHECKING
    ("pkg.b", "pkg.c"): (1, False, False, False, 2, 1, 2),
    ("pkg.b", "pkg.util"): (1, False, False, False, 2, 4, None),    # star import
    ("pkg.c", "pkg.a"): (1, False, False, False, 1, 1, 2),          # (its self-import dropped)
    ("pkg.models", "pkg.util"): (1, False, False, False, 2, 4, None),
    ("pkg.models", "pkg.sub.deep"): (1, False, False, False, 2, 2, None),
    ("pkg.models", "yaml"): (1, True, False, False, 2, 1, None),
    ("pkg.sub.deep", "pkg.sub"): (1, False, False, False, 2, 1, None),  # pkg.sub.missing
    ("pkg.sub.deep", "typing"): (1, True, False, False, 2, 2, None),
    ("pkg.sub.deep", "pkg.util"): (2, False, False, False, 2, 4, None),  # one of two under TC
    ("pkg.util", "os"): (2, True, False, False, 0, 1, None),        # os.path -> os; one in a def
    ("pkg.util", "json"): (1, True, False, True, 0, 1, None),       # only in a def
    ("script", "pkg"): (1, False, False, False, 2, 2, None),
    ("script", "pkg.sub.deep"): (1, False, False, False, 2, 2, None),  # (`from .. import` dropped)
}

# module: rel_path, fan_in, fan_out, scc_id, component_size, in_cycle, layer
MODULES = {
    "pkg": ("pkg/__init__.py", 2, 1, 1, 1, False, 1),
    "pkg.a": ("pkg/a.py", 1, 3, 2, 3, True, 3),
    "pkg.b": ("pkg/b.py", 1, 2, 2, 3, True, 3),
    "pkg.c": ("pkg/c.py", 1, 1, 2, 3, True, 3),
    "pkg.models": ("pkg/models.py", 1, 2, 3, 1, False, 2),
    "pkg.sub": ("pkg/sub/__init__.py", 1, 0, 4, 1, False, 0),
    "pkg.sub.deep": ("pkg/sub/deep.py", 2, 2, 5, 1, False, 1),
    "pkg.util": ("pkg/util.py", 4, 0, 6, 1, False, 0),
    "script": ("script.py", 0, 2, 7, 1, False, 2),
}


def test_import_graph_edges_and_modules(tmp_path):
    repo = make_git_repo(tmp_path / "widgets", FILES)
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    edges = {(r[0], r[1]): r[2:] for r in rows(
        db, "SELECT src_module, dst_module, edge_count, is_external, type_checking_only, "
            "function_scope_only, src_fan_out, dst_fan_in, cycle_group "
            "FROM graph.import_graph_edges WHERE repo = 'acme/widgets'")}
    assert edges == EDGES
    modules = {r[0]: r[1:] for r in rows(
        db, "SELECT module, rel_path, fan_in, fan_out, scc_id, component_size, in_cycle, layer "
            "FROM graph.import_modules WHERE repo = 'acme/widgets'")}
    assert modules == MODULES
    head = rows(db, "SELECT DISTINCT \"commit\" FROM core.imports")
    assert rows(db, "SELECT DISTINCT \"commit\" FROM graph.import_graph_edges") == head
    assert rows(db, "SELECT DISTINCT \"commit\" FROM graph.import_modules") == head
    # The README's query: import cycles.
    assert rows(db, "SELECT scc_id, list(module ORDER BY module) FROM graph.import_modules "
                    "WHERE in_cycle GROUP BY scc_id") == [(2, ["pkg.a", "pkg.b", "pkg.c"])]


def test_components_are_deterministic_and_layered():
    scc, size, layer = components(["z", "y", "x", "w"], [("z", "y"), ("y", "z"), ("w", "x"),
                                                         ("x", "y")])
    assert scc == {"w": 1, "x": 2, "y": 3, "z": 3}
    assert size == {1: 1, 2: 1, 3: 2}
    assert layer == {3: 0, 2: 1, 1: 2}


# grimp's view of the same files, in a fresh interpreter with the copy first on sys.path.
GRIMP = """
import json, sys
sys.path.insert(0, sys.argv[1])
import grimp
pkg = sys.argv[2]
__import__(pkg)
assert sys.modules[pkg].__file__.startswith(sys.argv[1]), sys.modules[pkg].__file__
graph = grimp.build_graph(pkg, include_external_packages=True, cache_dir=None)
ours = lambda m: m == pkg or m.startswith(pkg + ".")
print(json.dumps(sorted([m, d] for m in graph.modules if ours(m)
                        for d in graph.find_modules_directly_imported_by(m) if ours(d))))
"""

# Internal edges (src, dst) only one side has, per package, and why:
# markupsafe/__init__.py does `from ._speedups import _escape_inner` (in a try). _speedups is a
# C extension whose source tree has _speedups.c and _speedups.pyi: core.modules counts the .pyi
# as module markupsafe._speedups, so we resolve to it; grimp knows .py modules only, resolves the
# import to the package itself and keeps that self-import (we drop self-edges).
GRIMP_DIFFERENCES = {
    "jinja2": (set(), set()),
    "click": (set(), set()),
    "markupsafe": ({("markupsafe", "markupsafe._speedups")}, {("markupsafe", "markupsafe")}),
}


@pytest.mark.parametrize("package", sorted(GRIMP_DIFFERENCES))
def test_internal_edges_agree_with_grimp(tmp_path, package):
    """Our internal edges of a copy of an installed pure-Python package (a dependency of
    Dagster's, so always installed) against grimp's direct imports of every module. grimp
    counts imports under `if TYPE_CHECKING:` and inside functions too, as we do: those edges
    are in the comparison (jinja2 3.1.6: 91 edges, 18 only under TYPE_CHECKING, 7 only in
    functions; click 8.5.1: 61, 5 and 5)."""
    import importlib.util

    source = Path(importlib.util.find_spec(package).origin).parent
    repo = tmp_path / package
    shutil.copytree(source, repo / package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    make_git_repo(repo, {}, remote=f"https://github.com/upstream/{package}.git")
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    ours = set(rows(db, "SELECT src_module, dst_module FROM graph.import_graph_edges "
                        "WHERE NOT is_external"))
    out = subprocess.run([sys.executable, "-c", GRIMP, str(repo), package], check=True,
                         capture_output=True, text=True)
    theirs = {tuple(edge) for edge in json.loads(out.stdout)}
    assert len(theirs) > (50 if package != "markupsafe" else 1)  # grimp really built a graph
    assert (ours - theirs, theirs - ours) == GRIMP_DIFFERENCES[package]
    if package != "markupsafe":
        (tc, fn), = rows(db, "SELECT count(*) FILTER (WHERE type_checking_only), count(*) "
                             "FILTER (WHERE function_scope_only) FROM graph.import_graph_edges "
                             "WHERE NOT is_external")
        assert tc > 0 and fn > 0, (tc, fn)  # grimp has them too: they agree above
    print(f"{package}: {len(ours & theirs)} edges agree; ours {len(ours)}, grimp {len(theirs)}")


def test_vendored_namespace_named_like_the_stdlib_is_no_stdlib_edge(tmp_path):
    # setuptools' shape: _vendor on sys.path, jaraco a PEP 420 namespace without __init__.py.
    repo = make_git_repo(tmp_path / "widgets", {
        "tool/__init__.py": "", "tool/_vendor/jaraco/functools/__init__.py": "",
        "tool/_vendor/jaraco/text/__init__.py": "from jaraco.functools import x\n",
        "tool/_vendor/jaraco/text/show-newlines.py": "import jaraco.text\n",
        "tool/core.py": "import functools\nimport jaraco.functools\n",
        "conftest.py": "", "tests/conftest.py": "import conftest\n"})
    db = tmp_path / "ci.duckdb"
    assert run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                           console_log=False).success
    assert rows(db, "SELECT src_module, dst_module, is_external FROM graph.import_graph_edges "
                    "ORDER BY ALL") == [
        ("conftest@tests/conftest.py", "conftest", False),
        ("jaraco.text", "jaraco.functools", False),
        ("jaraco.text.show-newlines", "jaraco.text", False),
        ("tool.core", "functools", True),  # the standard library's, not the vendored one
        ("tool.core", "jaraco.functools", False),
    ]
