"""analytics.typedness rows: annotation coverage per file plus type-checker error counts.

Annotation counts come from the FunctionDef/AsyncFunctionDef rows of core.ast_nodes
(params_total, params_annotated, returns_annotated, computed by repo_scan: the bound
self/cls of a method is not counted); error counts from pyright and pyrefly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DEF_COLUMNS = ["rel_path", "params_total", "params_annotated", "returns_annotated"]


def typedness_rows(repo: str, commit: str, files: Iterable[str], defs: Iterable[dict],
                   type_errors: Mapping[str, int]) -> list[dict]:
    """One row per file of `files`.

    `defs` are def rows with DEF_COLUMNS; `type_errors` maps rel_path to pyright + pyrefly
    errors. A def is untyped when it has neither a parameter nor a return annotation; ratios
    are NULL when there is nothing to annotate; overlay_needed when a file has untyped defs or
    type errors.
    """
    totals: dict[str, list[int]] = {}
    for d in defs:
        t = totals.setdefault(d["rel_path"], [0, 0, 0, 0, 0])
        t[0] += d["params_annotated"]
        t[1] += d["params_total"]
        t[2] += bool(d["returns_annotated"])
        t[3] += 1
        t[4] += not d["params_annotated"] and not d["returns_annotated"]
    rows = []
    for path in files:
        annotated, params, returns, defs_total, untyped = totals.get(path, [0, 0, 0, 0, 0])
        errors = type_errors.get(path, 0)
        rows.append({
            "repo": repo, "commit": commit, "rel_path": path, "params_annotated": annotated,
            "params_total": params, "returns_annotated": returns, "defs_total": defs_total,
            "param_ratio": annotated / params if params else None,
            "return_ratio": returns / defs_total if defs_total else None,
            "untyped_defs": untyped, "type_error_count": errors,
            "overlay_needed": bool(untyped or errors),
        })
    return rows
