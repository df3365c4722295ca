"""goids: stable global object ids for modules, classes, functions and methods.

    goid = int.from_bytes(blake2b("\\x1f".join([repo, language, rel_path, kind, qualname]),
                                  digest_size=16), "big") % (10**38 - 1)

stored as DECIMAL(38,0); `urn = goid:{repo}/{rel_path}#{language}:{kind}:{qualname}`. The
qualname already carries `#N` / `#overloadK` for redefinitions in a scope (see pysource), so
ids are unique per repository and stable across commits while path and qualname stay. Input rows come
from `core.ast_nodes` (Module, ClassDef, FunctionDef and AsyncFunctionDef nodes).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pyarrow as pa

from codeintel_assets.extract.naming import is_stub, shadowed_stub
from codeintel_assets.extract.pysource import is_overload_signature
from codeintel_assets.storage.catalog import table

# Bump when the rows this module produces change for unchanged input: stored rows built by
# another version are rebuilt in full (see storage.changes).
VERSION = 3  # 2: is_stub, shadowed_stub; 3: is_overload
# Distributions whose installed version changes this module's rows ("python": the
# interpreter); storage.incremental builds the ledger version from VERSION and these.
LIBRARIES = ()  # versioned with the core.ast_nodes rows it hashes

GOID_MODULUS = 10**38 - 1
DEF_NODE_TYPES = ("Module", "ClassDef", "FunctionDef", "AsyncFunctionDef")
AST_COLUMNS = ["commit", "node_id", "rel_path", "module", "node_type", "qualname", "kind",
               "lineno", "end_lineno", "name_line", "name_col", "decorator_start_line"]


def goid(repo: str, language: str, rel_path: str, kind: str, qualname: str) -> int:
    data = "\x1f".join((repo, language, rel_path, kind, qualname)).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big") % GOID_MODULUS


def urn(repo: str, language: str, rel_path: str, kind: str, qualname: str) -> str:
    return f"goid:{repo}/{rel_path}#{language}:{kind}:{qualname}"


def goids_from_ast_nodes(repo: str, defs: pa.Table) -> pa.Table:
    """core.goids rows for the definition rows of core.ast_nodes (AST_COLUMNS at least; rows of
    other node types are ignored). The kind is core.ast_nodes.kind, where pysource's rule put
    it."""
    out = []
    language = "python"
    for r in defs.to_pylist():
        if r["node_type"] not in DEF_NODE_TYPES:
            continue
        kind = r["kind"]
        out.append({
            "repo": repo, "commit": r["commit"],
            "goid": Decimal(goid(repo, language, r["rel_path"], kind, r["qualname"])),
            "urn": urn(repo, language, r["rel_path"], kind, r["qualname"]),
            "rel_path": r["rel_path"], "module": r["module"], "language": language,
            "kind": kind, "qualname": r["qualname"],
            "start_line": r["decorator_start_line"] or r["lineno"], "end_line": r["end_lineno"],
            "name_line": r["name_line"], "name_col": r["name_col"], "ast_node_id": r["node_id"],
            "is_stub": is_stub(r["rel_path"]),
            "shadowed_stub": shadowed_stub(r["rel_path"], r["module"]),
            "is_overload": is_overload_signature(r["qualname"]),
        })
    return table("core.goids").from_rows(out)
