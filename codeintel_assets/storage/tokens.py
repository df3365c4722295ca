"""Content tokens: how a derived table knows its inputs did not change since it was built.

The gateway's bookkeeping (schema `_codeintel`, beside the file ledger), not a warehouse table.
Per table and repository it keeps:

- `token`: a digest of the repository's rows *without* their `commit` column, so a commit that
  changes no file (which only rewrites `commit`) leaves every token as it was. It is the row
  count and the exact (HUGEINT) sum of DuckDB's `hash` of each row: a multiset hash,
  independent of row order. A write whose rows come out equal keeps its token, so the
  tables built from it can skip too (early cutoff). Written in the same transaction as the rows.
- `commit`: the one `commit` the rows carry after the write (NULL when they carry none or
  several, e.g. an empty table).
- `built_from`: for a derived table, the `input_digest` of the inputs it was last built from
  (see `input_digest`); NULL for a table written without one, so it is never skipped.

A step that reads tables A, B and writes T: before building it reads A's and B's tokens
(`input_digest`); when T's `built_from` equals that digest its rows are what a rebuild would
write except `commit`, which `refresh_commit` sets to the inputs' commit. The digest is read
before the step reads any data, so a concurrent change of an input can only make the recorded
digest older than the data (a needless rebuild next time), never newer (a wrong skip).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from codeintel_assets.storage.catalog import TableSpec
from codeintel_assets.storage.ledger import LEDGER_SCHEMA
from codeintel_assets.storage.tables import present, run_statement
from codeintel_assets.storage.view_spec import ViewSpec, create_view

TOKENS = f"{LEDGER_SCHEMA}.table_tokens"
# The repository a view's record is kept under: a view is not of one repository.
VIEWS_REPO = ""
ABSENT = "absent"


@dataclass(frozen=True)
class TableToken:
    """One table's token for one repository: `token` (see module doc; None when unknown, e.g.
    the table was written before tokens existed), `commit` its rows carry (None: none or
    several), `built_from` the input digest it was built from (None: not recorded)."""

    token: str | None
    commit: str | None
    built_from: str | None


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {TOKENS} (table_name VARCHAR, repo VARCHAR, "
                "token VARCHAR, commit VARCHAR, built_from VARCHAR)")


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(present(con, [TOKENS]))


# Columns no derived step reads, left out of their table's token like `commit`: a file whose
# mtime moved without its content (a checkout, a `git reset --hard`, `touch`) must not rebuild
# what is built on core.file_state (the SCIP symbols, typedness, the test run's plan). Only
# repo_scan reads mtime_ns, and from the rows themselves.
UNTOKENED = {"core.file_state": ("mtime_ns",)}


def content_token(con: duckdb.DuckDBPyConnection, spec: TableSpec, repo: str) -> str:
    """'<rows>:<sum of row hashes>' of `repo`'s stored rows of `spec`, `commit` (and the
    table's UNTOKENED columns) left out. One scan of the repository's rows (DuckDB's hash is
    deterministic, not seeded)."""
    left_out = ("repo", "commit", *UNTOKENED.get(spec.qualified_name, ()))
    cols = ", ".join(f'"{c}"' for c in spec.column_names if c not in left_out)
    count, total = con.execute(
        f"SELECT count(*), coalesce(sum(hash({cols}))::HUGEINT, 0) "
        f"FROM {spec.qualified_name} WHERE repo = $repo", {"repo": repo}).fetchall()[0]
    return f"{count}:{total}"


def rows_commit(con: duckdb.DuckDBPyConnection, spec: TableSpec, repo: str) -> str | None:
    """The one `commit` of `repo`'s rows of `spec`; None when there are none or several."""
    if "commit" not in spec.column_names:
        return None
    low, high = con.execute(f'SELECT min("commit"), max("commit") FROM {spec.qualified_name} '
                            "WHERE repo = $repo", {"repo": repo}).fetchall()[0]
    return low if low == high else None


def read_tokens(con: duckdb.DuckDBPyConnection, names: Sequence[str], repo: str
                ) -> dict[str, TableToken]:
    """The TableToken of each qualified name of `names` for `repo` that has one."""
    if not names or not _exists(con):
        return {}
    rows = con.execute(f"SELECT table_name, token, commit, built_from FROM {TOKENS} "
                       "WHERE repo = $repo AND list_contains($names, table_name)",
                       {"repo": repo, "names": list(names)}).fetchall()
    return {r[0]: TableToken(r[1], r[2], r[3]) for r in rows}


def record_token(con: duckdb.DuckDBPyConnection, name: str, repo: str, token: str | None,
                 commit: str | None, built_from: str | None = None) -> None:
    """Replace the token record of the table or view `name` of `repo` (inside the write's
    transaction)."""
    _ensure(con)
    key = {"t": name, "repo": repo}
    run_statement(con, f"DELETE FROM {TOKENS} WHERE table_name = $t AND repo = $repo", key)
    run_statement(con, f"INSERT INTO {TOKENS} VALUES ($t, $repo, $token, $commit, $built)",
                  {**key, "token": token, "commit": commit, "built": built_from})


def record_write(con: duckdb.DuckDBPyConnection, spec: TableSpec, repo: str,
                 only_commit: bool, commit: str | None, built_from: str | None) -> None:
    """`spec`'s token record after a write of `repo`'s rows, in its transaction: the stored
    token when the write changed `commit` only (`only_commit`) and there is one, else the
    rows hashed; `commit` (None: the one the rows carry, see `rows_commit`); `built_from`."""
    stored = read_tokens(con, [spec.qualified_name], repo).get(spec.qualified_name) \
        if only_commit else None
    token = stored.token if stored is not None and stored.token is not None \
        else content_token(con, spec, repo)
    record_token(con, spec.qualified_name, repo, token, commit if commit is not None
                 else rows_commit(con, spec, repo), built_from)


def input_digest(tokens: Mapping[str, TableToken], inputs: Sequence[str], present: set[str],
                 salt: str) -> str | None:
    """A digest of the tokens of the qualified table names `inputs` and `salt` (the step's
    code and configuration). An input that does not exist (not in `present`, the tables that
    do) counts as ABSENT, so an optional input never written still allows a skip; an input
    that exists without a token (written before tokens) makes it None, which matches
    nothing."""
    h = hashlib.blake2b(salt.encode(), digest_size=16)
    for name in sorted(set(inputs)):
        got = tokens.get(name)
        if name not in present:
            token = ABSENT
        elif got is None or got.token is None:
            return None
        else:
            token = got.token
        h.update(b"\0" + name.encode() + b"\1" + token.encode())
    return h.hexdigest()


def inputs_commit(tokens: Mapping[str, TableToken], inputs: Sequence[str]) -> str | None:
    """The one commit the non-empty `inputs` carry (what a rebuild would write), or None when
    they disagree or none carries one."""
    commits = {tokens[n].commit for n in inputs if n in tokens and tokens[n].commit is not None}
    return commits.pop() if len(commits) == 1 else None


def skip_plan(con: duckdb.DuckDBPyConnection, outputs: Sequence[str], inputs: Sequence[str],
              repo: str, salt: str) -> tuple[str | None, str | None]:
    """(input digest of `inputs` with `salt`, the commit the kept `outputs` take), the commit
    None unless every output exists and was built from that digest. The digest is None (a
    table built from it records none, so it is never kept) unless the inputs agree on one
    commit (`inputs_commit`): tokens leave `commit` out, yet derived steps join their inputs
    on it (coverage rows of another commit than core.goids' count as no coverage data), so
    rows built from inputs of several commits must be rebuilt once the inputs agree again,
    even when no row of theirs changed (see `input_digest`)."""
    present = present_tables(con, [*inputs, *outputs])
    tokens = read_tokens(con, [*inputs, *outputs], repo)
    commit = inputs_commit(tokens, inputs)
    digest = input_digest(tokens, inputs, present, salt) if commit is not None else None
    if digest is None or any(n not in present or n not in tokens or tokens[n].built_from != digest
                             for n in outputs):
        return digest, None
    return digest, commit


def refresh_commit(con: duckdb.DuckDBPyConnection, spec: TableSpec, repo: str, commit: str
                   ) -> int:
    """Set `commit` on `repo`'s rows of the skipped table `spec` (only rows that differ) and
    in its token record; its rows' count. Inside a transaction."""
    key = {"repo": repo, "commit": commit}
    if "commit" in spec.column_names:
        run_statement(con, f'UPDATE {spec.qualified_name} SET "commit" = $commit '
                      'WHERE repo = $repo AND "commit" IS DISTINCT FROM $commit', key)
    run_statement(con, f"UPDATE {TOKENS} SET commit = $commit WHERE table_name = $t "
                  "AND repo = $repo", {**key, "t": spec.qualified_name})
    return con.execute(f"SELECT count(*) FROM {spec.qualified_name} WHERE repo = $repo",
                       {"repo": repo}).fetchall()[0][0]


def present_tables(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> set[str]:
    """Which of the qualified table (or view) names `names` exist."""
    return present(con, names)


def ensure_views(con: duckdb.DuckDBPyConnection, specs: Sequence[ViewSpec], salt: str,
                 force: bool = False) -> dict[str, list[tuple[str, str]] | None]:
    """Create or replace each view of `specs` (`view_spec.create_view`) unless it exists with
    the definition recorded when it was last created (its SELECT, its declared columns and
    `salt`, the code version; recorded under repository VIEWS_REPO, as a view holds every
    repository's rows): qualified name -> its (column, type) pairs, None for a view kept.
    `force` creates every one. Raises as create_view."""
    names = [s.qualified_name for s in specs]
    stored, present = read_tokens(con, names, VIEWS_REPO), present_tables(con, names)
    out: dict[str, list[tuple[str, str]] | None] = {}
    for spec in specs:
        name = spec.qualified_name
        digest = hashlib.blake2b(f"{salt}\0{spec.select}\0{spec.columns!r}".encode(),
                                 digest_size=16).hexdigest()
        got = stored.get(name)
        if not force and name in present and got is not None and got.token == digest:
            out[name] = None
            continue
        out[name] = create_view(con, spec)
        record_token(con, name, VIEWS_REPO, digest, None, digest)
    return out


@functools.cache
def code_version() -> str:
    """A digest of this package's Python source and DuckDB's version: part of every derived
    step's salt, so a table built by other code (any edit, not only a version bump) is built
    again rather than kept. About 1 MB read once per process."""
    package = Path(__file__).resolve().parents[1]
    h = hashlib.blake2b(duckdb.__version__.encode(), digest_size=16)
    for folder in (package, *(package / d for d in ("defs", "extract", "storage", "tools"))):
        for path in sorted(folder.glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
