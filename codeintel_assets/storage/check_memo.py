"""Check results kept while the tables they read are unchanged (the gateway's bookkeeping in
`_codeintel.table_tokens`, beside the tables' content tokens; see `storage.tokens`).

An asset check reads whole tables (a primary key's uniqueness, one row per node) and runs after
every update, a no-change commit too, where it would count the same rows again. A check's
result is a function of the rows of the tables it reads, `commit` left out (no check here reads
it, nor joins on it), so it is recorded under `check:<name>` with the input digest of those tables' tokens
(`tokens.input_digest`, salted with the code version) and answered from there while the digest
is the same and each table still has the row count its token says (a cheap count of the
repository's rows catches a row inserted or deleted behind the gateway's back; an UPDATE in place
is not seen): one DuckDB open instead of a scan. A table without a token (written before
tokens) makes no digest, and the check runs every time. A result is recorded only if the tokens
of the tables it read are the same when it is recorded as before it was computed: a write that
lands in between (another process's) would otherwise file the new rows' result under the old
digest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import TypeVar

from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets.storage.tokens import (
    TableToken,
    code_version,
    input_digest,
    present_tables,
    read_tokens,
    record_token,
)

T = TypeVar("T")
PREFIX = "check:"


def memoized(gateway: StorageGateway, repo: str, inputs: Mapping[str, Sequence[str]],
             compute: Callable[[list[str]], Mapping[str, T]], decode: Callable[..., T]
             ) -> dict[str, T]:
    """Result per check name of `inputs` (name -> the qualified tables it reads): those whose
    inputs' digest equals the one recorded with their last result are decoded from it
    (`decode(**fields)`), `compute(names)` gives the others (dataclasses), which are then
    recorded. One DuckDB open when every result is kept, two more (compute's and the record)
    otherwise."""
    keys = [PREFIX + n for n in inputs]
    tables = sorted({t for names in inputs.values() for t in names})
    with gateway.connect() as con:
        present = present_tables(con, tables)
        tokens = read_tokens(con, tables, repo)
        stored = read_tokens(con, keys, repo)
        counted = [t for t in tables if t in present and t in tokens and tokens[t].token]
        counts = dict(con.execute(" UNION ALL ".join(
            f"SELECT '{t}', count(*) FROM {t} WHERE repo = $repo" for t in counted),
            {"repo": repo}).fetchall()) if counted else {}
    # A row inserted or deleted behind the gateway's back (the token's row count no longer
    # holds) is never answered from the memo: checks are what finds such rows.
    moved = {t for t in counted if str(counts[t]) != tokens[t].token.partition(":")[0]}
    digests = {name: None if moved.intersection(reads) else
               input_digest(tokens, reads, present, f"{code_version()}\0{name}")
               for name, reads in inputs.items()}
    out: dict[str, T] = {}
    for name, digest in digests.items():
        got = stored.get(PREFIX + name)
        if digest is not None and got is not None and got.built_from == digest:
            out[name] = decode(**json.loads(got.token))
    missing = [n for n in inputs if n not in out]
    if missing:
        found = compute(missing)
        out.update(found)
        with gateway.connect() as con:
            con.execute("BEGIN TRANSACTION")
            now = read_tokens(con, tables, repo)
            for name in missing:
                if any(_token(now, t) != _token(tokens, t) for t in inputs[name]):
                    continue  # a write landed while the check ran: its result may be stale
                record_token(con, PREFIX + name, repo, json.dumps(asdict(found[name])), None,
                             digests[name])
            con.execute("COMMIT")
    return out


def _token(tokens: Mapping[str, TableToken], table: str) -> str | None:
    got = tokens.get(table)
    return None if got is None else got.token


def memoized_one(gateway: StorageGateway, repo: str, name: str, reads: Sequence[str],
                 compute: Callable[[], T], decode: Callable[..., T]) -> T:
    """`memoized` of the one check `name` reading the tables `reads`."""
    return memoized(gateway, repo, {name: reads}, lambda _: {name: compute()}, decode)[name]
