"""docstrings_ingest and goids: parsed docstring styles, GOID definition and stability."""

from __future__ import annotations

import hashlib
import json
import textwrap
from decimal import Decimal

from codeintel_assets.extract.docstrings import extract_docstrings, parse_docstring
from codeintel_assets.extract.goids import (
    AST_COLUMNS,
    GOID_MODULUS,
    goid,
    goids_from_ast_nodes,
    urn,
)
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.python_ast import extract_ast
from codeintel_assets.storage.catalog import table

DOCS = textwrap.dedent('''\
    """Module summary.

    More about the module.
    """


    def google(a, b=2):
        """Add things.

        Args:
            a (int): first.
            b (int): second. Defaults to 2.

        Returns:
            int: the sum.

        Raises:
            ValueError: when negative.

        Examples:
            >>> google(1)
            3
        """


    class K:
        def rest(self, x):
            """Do rest.

            :param x: the x.
            :type x: str
            :returns: nothing.
            :raises KeyError: never.
            """

        @property
        def p(self):
            """First."""

        @p.setter
        def p(self, v):
            """Second."""

        def undocumented(self):
            pass
''')


def test_docstrings_rows(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(DOCS)
    rows = {r["qualname"]: r for r in extract_docstrings(
        FileJob("acme/w", "c", "pkg/m.py", str(path), "pkg.m"))["core.docstrings"]}
    assert set(rows) == {"pkg.m", "pkg.m.google", "pkg.m.K.rest", "pkg.m.K.p", "pkg.m.K.p#2"}
    mod = rows["pkg.m"]
    assert (mod["kind"], mod["style"], mod["short_desc"]) == ("module", "unknown", "Module summary.")
    assert (mod["lineno"], mod["end_lineno"]) == (1, 4)
    g = rows["pkg.m.google"]
    assert g["style"] == "google" and g["kind"] == "function"
    assert json.loads(g["params"]) == [
        {"name": "a", "type": "int", "desc": "first.", "default": None},
        {"name": "b", "type": "int", "desc": "second. Defaults to 2.", "default": "2"},
    ]
    assert json.loads(g["returns"]) == {"type": "int", "desc": "the sum.", "is_generator": False}
    assert json.loads(g["raises"]) == [{"type": "ValueError", "desc": "when negative."}]
    assert json.loads(g["examples"]) == [">>> google(1)\n3"]
    r = rows["pkg.m.K.rest"]
    assert r["style"] == "rest" and r["kind"] == "method"
    assert json.loads(r["params"])[0]["name"] == "x"
    assert json.loads(r["raises"]) == [{"type": "KeyError", "desc": "never."}]
    assert rows["pkg.m.K.p#2"]["short_desc"] == "Second."
    assert table("core.docstrings").from_rows(list(rows.values())).num_rows == 5


def test_numpy_and_epydoc_styles():
    numpy = parse_docstring("Sum.\n\nParameters\n----------\nx : int\n    The x.\n")
    assert numpy["style"] == "numpy" and json.loads(numpy["params"])[0]["type"] == "int"
    epy = parse_docstring("Sum.\n\n@param x: The x.\n@type x: int\n@return: total\n")
    assert epy["style"] == "epydoc"
    assert parse_docstring("Just words.")["style"] == "unknown"


def test_goid_definition_vector():
    data = "acme/w\x1fpython\x1fpkg/m.py\x1ffunction\x1fpkg.m.f".encode()
    expected = int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big") % (10**38 - 1)
    assert goid("acme/w", "python", "pkg/m.py", "function", "pkg.m.f") == expected
    # Pinned: a change to the formula (separator, digest size, byte order, modulus) breaks it.
    assert expected == 94584340348733397347371665614207936529
    assert 0 <= expected < GOID_MODULUS
    assert urn("acme/w", "python", "pkg/m.py", "method", "pkg.m.K.p#2") == \
        "goid:acme/w/pkg/m.py#python:method:pkg.m.K.p#2"


def _goids(tmp_path, source, commit="c1"):
    path = tmp_path / "m.py"
    path.write_text(source)
    nodes = extract_ast(FileJob("acme/w", commit, "pkg/m.py", str(path), "pkg.m"))["core.ast_nodes"]
    defs = table("core.ast_nodes").from_rows(nodes).select(AST_COLUMNS)
    return {r["qualname"]: r for r in goids_from_ast_nodes("acme/w", defs).to_pylist()}


def test_goids_kinds_lines_and_disambiguation(tmp_path):
    g = _goids(tmp_path, DOCS)
    assert g["pkg.m"]["kind"] == "module" and g["pkg.m.K"]["kind"] == "class"
    assert g["pkg.m.google"]["kind"] == "function" and g["pkg.m.K.rest"]["kind"] == "method"
    p2 = g["pkg.m.K.p#2"]
    assert p2["start_line"] == DOCS.splitlines().index("    @p.setter") + 1  # first decorator
    assert p2["name_line"] == p2["start_line"] + 1 and p2["name_col"] == 8
    assert p2["goid"] == Decimal(goid("acme/w", "python", "pkg/m.py", "method", "pkg.m.K.p#2"))
    assert len({r["goid"] for r in g.values()}) == len(g)


def test_goids_stable_across_commits_and_line_moves(tmp_path):
    before = _goids(tmp_path, DOCS, commit="c1")
    after = _goids(tmp_path, "# a new comment shifts every line\n\n" + DOCS, commit="c2")
    assert {q: r["goid"] for q, r in before.items()} == {q: r["goid"] for q, r in after.items()}
    assert after["pkg.m.google"]["start_line"] == before["pkg.m.google"]["start_line"] + 2
    assert after["pkg.m.google"]["commit"] == "c2"
