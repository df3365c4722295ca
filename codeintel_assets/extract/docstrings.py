"""docstrings_ingest: `core.docstrings`, one row per documented module, class or function.

The docstring comes from `ast.get_docstring` (cleaned as `inspect.cleandoc`); its structure from
docstring-parser with automatic style detection. A docstring with no recognisable sections is
style 'unknown' (docstring-parser would call it rest).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

import docstring_parser

from codeintel_assets.extract.json_text import json_text
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.pysource import Visit, read_python, walk

# Bump when the rows this module produces change for unchanged input: stored rows built by
# another version are rebuilt in full (see storage.changes).
# 2: @overload signatures leave the plain qualname to the implementation (pysource.walk)
VERSION = 2
# Distributions whose installed version changes this module's rows ("python": the
# interpreter); storage.incremental builds the ledger version from VERSION and these.
LIBRARIES = ("docstring-parser", "python")  # ast.get_docstring too

_STYLES = {
    docstring_parser.DocstringStyle.GOOGLE: "google",
    docstring_parser.DocstringStyle.NUMPYDOC: "numpy",
    docstring_parser.DocstringStyle.REST: "rest",
    docstring_parser.DocstringStyle.EPYDOC: "epydoc",
}


def extract_docstrings(job: FileJob) -> dict[str, list[dict]]:
    """Rows of core.docstrings for one Python file (objects without a docstring have none)."""
    tree = ast.parse(read_python(job.abs_path), filename=job.rel_path)
    return {"core.docstrings": docstring_rows(
        job, [v for v in walk(tree, job.module or "") if v.qualname is not None])}


def docstring_rows(job: FileJob, defs: Iterable[Visit]) -> list[dict]:
    """core.docstrings rows of `defs`, the visits of `pysource.walk` that have a qualname
    (module, classes, functions; `python_ast.ast_rows` collects them in its walk)."""
    rows = []
    for visit in defs:
        text = ast.get_docstring(visit.node)
        if text is None:
            continue
        literal = visit.node.body[0]
        rows.append({
            "repo": job.repo, "commit": job.commit, "rel_path": job.rel_path,
            "qualname": visit.qualname, "module": job.module, "kind": visit.kind,
            "lineno": literal.lineno, "end_lineno": literal.end_lineno, "raw_docstring": text,
            **parse_docstring(text),
        })
    return rows


def parse_docstring(text: str) -> dict:
    """style, short_desc, long_desc and JSON params/returns/raises/examples of one docstring."""
    try:
        doc = docstring_parser.parse(text)
    except docstring_parser.ParseError:
        doc = None
    if doc is None:
        head, _, body = text.partition("\n")
        return {"style": "unknown", "short_desc": head.strip() or None,
                "long_desc": body.strip() or None, "params": "[]", "returns": "null",
                "raises": "[]", "examples": "[]"}
    style = _STYLES.get(doc.style, "unknown") if doc.meta else "unknown"
    returns = doc.returns
    return {
        "style": style,
        "short_desc": doc.short_description,
        "long_desc": doc.long_description,
        "params": json_text([
            {"name": p.arg_name, "type": p.type_name, "desc": p.description, "default": p.default}
            for p in doc.params
        ]),
        "returns": json_text(None if returns is None else {
            "type": returns.type_name, "desc": returns.description,
            "is_generator": returns.is_generator,
        }),
        "raises": json_text([{"type": r.type_name, "desc": r.description} for r in doc.raises]),
        "examples": json_text([
            "\n".join(x for x in (e.snippet, e.description) if x) for e in doc.examples
        ]),
    }
