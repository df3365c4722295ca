"""tools/glean_scip.py: pyrefly's Glean facts become a SCIP index in scip-python's symbol grammar,
read by scip_decode as scip-python's is; an update of one file names what a full run names.
Real pyrefly on a package made in a temp dir (two runs of about 1 s)."""

from __future__ import annotations

import sys
from pathlib import Path

from codeintel_assets.defs.resources import ToolService
from codeintel_assets.tools import glean_scip
from codeintel_assets.tools.glean_scip import Earlier
from codeintel_assets.tools.runner import ToolRunner
from codeintel_assets.tools.scip_decode import decode, parse_index

FILES = {
    "pkg/__init__.py": "",
    "pkg/base.py": "class Base:\n    def greet(self, name):\n        self.count = 1\n"
                   "        n = name\n        return n\n",
    "pkg/a.py": "from pkg.base import Base\n\n\nclass Sub(Base):\n    pass\n\n\n"
                "def f(x=None):\n    s = Sub()\n    s.greet(name='x')\n"
                "    return s.count, [i for i in range(3)], True\n",
}
HEAD = "scip-python python demo . "


def _index(root: Path, out: Path, files: list[str], earlier: Earlier | None = None):
    return glean_scip.run_index(ToolRunner(), str(root), str(out), "demo", ".", 120,
                                ToolService().pyrefly_path, sys.executable, files,
                                earlier=earlier)


def test_glean_facts_become_scip_pythons_symbols(tmp_path):
    root = tmp_path / "proj"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    out = tmp_path / "w" / "index.scip"
    built = _index(root, out, sorted(FILES))
    assert built.document_count == 3 and sorted(p.name for p in out.parent.iterdir()) == \
        ["index.scip"]  # the Glean JSON is deleted; nothing written in the tree
    symbols, occurrences = decode(str(out), str(root))
    defined = {(s["symbol"].removeprefix(HEAD), s["def_rel_path"], s["def_line"], s["def_col"])
               for s in symbols if s["def_rel_path"]}
    assert {("`pkg.base`/Base#greet().", "pkg/base.py", 2, 8),
            ("`pkg.base`/Base#greet().(name)", "pkg/base.py", 2, 20),
            # B1: the instance attribute at its first store
            ("`pkg.base`/Base#count.", "pkg/base.py", 3, 13),
            ("`pkg.a`/f().(x)", "pkg/a.py", 8, 6), ("`pkg.a`/__init__:", "pkg/a.py", 1, 0),
            ("local 0", "pkg/a.py", 9, 4), ("local 0", "pkg/base.py", 4, 8)} <= defined
    refs = {(o["start_line"], o["start_col"]): o["symbol"].removeprefix(HEAD)
            for o in occurrences if o["rel_path"] == "pkg/a.py" and not o["is_definition"]}
    # `from pkg.base import`: one occurrence naming the module; `s.greet` and `s.count`
    # resolve through Sub's base; `x=None` and `True` have none (dropped constants), nor does
    # the comprehension's `i` (B4, unresolved); `range` is a library's.
    assert refs[(1, 5)] == "`pkg.base`/__init__:" and (1, 9) not in refs
    assert refs[(10, 6)] == "`pkg.base`/Base#greet()."
    assert refs[(11, 13)] == "`pkg.base`/Base#count."
    assert (8, 8) not in refs and (11, 43) not in refs and (11, 21) not in refs
    assert refs[(11, 32)] == "scip-python python builtins . builtins/range."

    # An update of pkg/a.py alone names what the full run named (pkg/base.py's symbols and
    # Base, which pyrefly did not report this time, come from the earlier index).
    again = tmp_path / "w2" / "index.scip"
    _index(root, again, ["pkg/a.py"], Earlier(parse_index(out), frozenset(FILES)))
    full = [d for d in parse_index(out).documents if d.relative_path == "pkg/a.py"]
    assert list(parse_index(again).documents) == full


def test_a_pyrefly_panic_costs_only_the_file_it_panics_on(tmp_path):
    """A panic (exit 101) is bisected: the file it panics on alone gets an empty document and is
    named in excluded_files; the other files keep their facts. The panic is real pyrefly's
    exit code from a wrapper that runs real pyrefly unless pkg/a.py is among its files."""
    root = tmp_path / "proj"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    wrapper = tmp_path / "pyrefly-panics-on-a"
    wrapper.write_text(f"#!{sys.executable}\nimport os, sys\n"
                       "if 'pkg/a.py' in sys.argv:\n"
                       "    sys.stderr.write('thread main panicked\\n'); sys.exit(101)\n"
                       f"os.execv({ToolService().pyrefly_path!r}, sys.argv)\n")
    wrapper.chmod(0o755)
    out = tmp_path / "w" / "index.scip"
    built = glean_scip.run_index(ToolRunner(), str(root), str(out), "demo", ".", 120,
                                 str(wrapper), sys.executable, sorted(FILES))
    assert built.excluded_files == ("pkg/a.py",) and built.attempts > 1
    documents = {d.relative_path: len(d.occurrences) for d in parse_index(str(out)).documents}
    assert documents["pkg/a.py"] == 0 and documents["pkg/base.py"] > 0
