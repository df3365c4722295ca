"""The gateway's bookkeeping of file-level tables, not a warehouse table: per table and
repository, the version its rows were built with and the fingerprint of every file they come
from (schema `_codeintel`). Read and written only on the gateway's connections, inside its
transactions.

A plan is made against one state of a ledger (`ledger_digest`); the gateway compares that state
with the stored one inside its write transaction and raises StalePlanError when another writer
changed the ledger in between, so a delta never applies to rows it was not planned for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from codeintel_assets.storage.catalog import TableSpec
from codeintel_assets.storage.tables import existing_types, present, run_statement

LEDGER_SCHEMA = "_codeintel"
LEDGER = f"{LEDGER_SCHEMA}.file_ledger"
VERSIONS = f"{LEDGER_SCHEMA}.table_versions"

# (version, rel_path -> fingerprint) of one table and repository; None without a ledger.
Ledger = tuple[str, dict[str, str]] | None


class StalePlanError(RuntimeError):
    """A FileDelta was planned against another ledger state than the stored one: another
    writer updated the table in between. Nothing was written; plan again (the step retries)."""


def ledger_digest(stored: Ledger) -> str:
    """A short digest of a ledger (version and every file's fingerprint), 'absent' for None.
    Equal digests mean the rows a plan was made against are still the stored ones."""
    if stored is None:
        return "absent"
    h = hashlib.blake2b(stored[0].encode(), digest_size=16)
    for path in sorted(stored[1]):
        h.update(b"\0" + path.encode() + b"\1" + stored[1][path].encode())
    return h.hexdigest()


def ledger_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(present(con, [f"{LEDGER_SCHEMA}.table_versions"]))


def read_ledgers(con: duckdb.DuckDBPyConnection, specs: list[TableSpec], repo: str
                 ) -> dict[str, Ledger]:
    """The ledger of each table of `specs` for `repo` (None when the table or its ledger does
    not exist)."""
    out: dict[str, Ledger] = {s.qualified_name: None for s in specs}
    if not ledger_exists(con):
        return out
    for spec in specs:
        key = {"t": spec.qualified_name, "repo": repo}
        row = con.execute(f"SELECT version FROM {VERSIONS} WHERE table_name = $t "
                          "AND repo = $repo", key).fetchall()
        if not row or not existing_types(con, spec):
            continue
        files = con.execute(f"SELECT rel_path, fingerprint FROM {LEDGER} "
                            "WHERE table_name = $t AND repo = $repo", key).fetchall()
        out[spec.qualified_name] = (row[0][0], dict(files))
    return out


def check_plan(con: duckdb.DuckDBPyConnection, spec: TableSpec, repo: str,
               planned_against: str) -> None:
    """Raise StalePlanError unless `spec`'s stored ledger of `repo` has the digest
    `planned_against`. Call inside the write transaction, before changing anything."""
    stored = ledger_digest(read_ledgers(con, [spec], repo)[spec.qualified_name])
    if stored != planned_against:
        raise StalePlanError(
            f"{spec.qualified_name} of {repo}: the update was planned against ledger state "
            f"{planned_against}, but another writer changed it to {stored}; plan again")


def record_ledger(con: duckdb.DuckDBPyConnection, spec: TableSpec, repo: str,
                  ledger: Mapping[str, str] | None, version: str = "", commit: str = "",
                  stored: str | None = None) -> None:
    """Replace `spec`'s ledger of `repo` with `ledger` (rel_path -> fingerprint), built with
    `version` at `commit`; `ledger` None drops it (rows written whole carry no fingerprints).
    `stored`: the `ledger_digest` of the stored ledger, when the caller checked it inside this
    transaction (`check_plan`); a ledger equal to it keeps its file rows (a no-change commit
    would rewrite thousands) and takes only the new commit."""
    if ledger is None and not ledger_exists(con):
        return
    key = {"t": spec.qualified_name, "repo": repo}
    if ledger is not None and stored is not None and stored != "absent" \
            and ledger_digest((version, dict(ledger))) == stored:
        run_statement(con, f"UPDATE {VERSIONS} SET commit = $commit, updated_at = "
                      "now()::TIMESTAMP WHERE table_name = $t AND repo = $repo",
                      {**key, "commit": commit})
        return
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {LEDGER} (table_name VARCHAR, repo VARCHAR, "
                "rel_path VARCHAR, fingerprint VARCHAR)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS} (table_name VARCHAR, repo VARCHAR, "
                "version VARCHAR, commit VARCHAR, updated_at TIMESTAMP)")
    run_statement(con, f"DELETE FROM {LEDGER} WHERE table_name = $t AND repo = $repo", key)
    run_statement(con, f"DELETE FROM {VERSIONS} WHERE table_name = $t AND repo = $repo", key)
    if ledger is None:
        return
    paths = sorted(ledger)
    con.register("_ledger", pa.table({
        "rel_path": pa.array(paths, pa.string()),
        "fingerprint": pa.array([ledger[p] for p in paths], pa.string())}))
    run_statement(con, f"INSERT INTO {LEDGER} SELECT $t, $repo, rel_path, fingerprint "
                  "FROM _ledger", key)
    con.unregister("_ledger")
    run_statement(con, f"INSERT INTO {VERSIONS} VALUES ($t, $repo, $version, $commit, "
                  "now()::TIMESTAMP)", {**key, "version": version, "commit": commit})
