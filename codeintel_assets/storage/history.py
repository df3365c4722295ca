"""analytics.hotspots and analytics.function_history from Git history (docs/assets.md: "Hotspots and
function history"). Free of Dagster: the git passes come in through a `GitSource` (ToolService
implements it), rows go out as Arrow; the derived columns are SQL in an in-memory DuckDB.

History is read as of the scanned commit (core.file_state's), never of whatever HEAD is by
the time a step runs. The window: commits whose author time is within `window_days` days
before that commit's committer time (anchored at the commit, not the clock, so a rebuild of
one commit gives the same rows). function_history updates per file: a file's history is read
again when a commit since the stored snapshot touched it, its core.goids rows changed, or the
window moved past one of its commits either way (the oldest counted commit left it, or the
newest commit before it came back in: committer dates may go back). The other files' rows are
carried over and only their cheap columns (age_days, stability_bucket, window_days)
recomputed. What the rows say depends only on the scanned commit and the work tree, never on
Git's index: a file the commit does not hold (untracked or staged) is uncommitted code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import duckdb
import pyarrow as pa

from codeintel_assets.extract import line_trace
from codeintel_assets.extract.line_trace import Span, SpanHistory
from codeintel_assets.extract.scan import changed_since_scan
from codeintel_assets.storage import queries
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway, ledger_digest
from codeintel_assets.storage.incremental import fingerprint_hash, ledger_version
from codeintel_assets.tools.git import Tree
from codeintel_assets.tools.git_history import ChurnLog, FileDiff, Head, PatchCommit

HOTSPOTS = "analytics.hotspots"
FUNCTION_HISTORY = "analytics.function_history"
DEFAULT_WINDOW_DAYS = 365
NEW_DAYS = 30  # stability_bucket 'new': def line introduced this many days before HEAD (or uncommitted)
VOLATILE_CHURN, VOLATILE_COMMITS = 1.0, 5
GIT, SHALLOW, NO_GIT, NO_COMMITS = "git", "shallow", "no_git", "no_commits"
GIT_REFUSED, SUBMODULE = "git_refused", "submodule"
_DAY = 86400


class GitSource(Protocol):
    """The git passes the tables need (ToolService's git_* methods)."""

    def git_head(self, root: str, rev: str = "HEAD") -> Head | None: ...

    def git_tree(self, root: str, rev: str) -> Tree: ...

    def git_churn(self, root: str, rev: str, current: Sequence[str],
                  boundary: frozenset[str] = frozenset()) -> ChurnLog: ...

    def git_patch_logs(self, root: str, rev: str, names: Mapping[str, Sequence[str]]
                       ) -> dict[str, list[PatchCommit]]: ...

    def git_worktree_diffs(self, root: str, rev: str, paths: Sequence[str]
                           ) -> dict[str, FileDiff]: ...

    def git_touched_since(self, root: str, sha: str, rev: str) -> frozenset[str] | None: ...


def status_of(head: Head | None) -> str:
    """history_status of a repository whose scanned commit is `head` (None: not a Git
    checkout): git, shallow (a shallow clone: history read as far as it goes), no_git,
    no_commits, git_refused (git refused the repository: `head.error` says why)."""
    if head is None:
        return NO_GIT
    if head.error:
        return GIT_REFUSED
    return NO_COMMITS if not head.sha else SHALLOW if head.shallow else GIT


def has_history(status: str) -> bool:
    """Whether a history_status means commits were read (git or shallow)."""
    return status in (GIT, SHALLOW)


# ---- hotspots --------------------------------------------------------------------------------

_HOTSPOTS_SQL = """
WITH agg AS (
  SELECT f.rel_path, f.status,
         count(DISTINCT c.sha) FILTER (WHERE c.author_ts >= $start) AS commit_count,
         count(DISTINCT c.email) FILTER (WHERE c.author_ts >= $start) AS author_count,
         coalesce(sum(c.added) FILTER (WHERE c.author_ts >= $start), 0) AS lines_added,
         coalesce(sum(c.deleted) FILTER (WHERE c.author_ts >= $start), 0) AS lines_deleted,
         max(c.author_ts) AS last_ts
  FROM files f LEFT JOIN changes c USING (rel_path) GROUP BY f.rel_path, f.status),
scored AS (
  SELECT a.*, coalesce(m.complexity, 0) AS complexity,
         ln(1 + a.commit_count) / nullif(ln(1 + max(a.commit_count) OVER ()), 0) AS change_n,
         ln(1 + coalesce(m.complexity, 0))
           / nullif(ln(1 + max(coalesce(m.complexity, 0)) OVER ()), 0) AS complexity_n
  FROM agg a LEFT JOIN metrics m USING (rel_path))
SELECT $repo AS repo, $commit AS "commit", rel_path,
       commit_count::INTEGER AS commit_count, author_count::INTEGER AS author_count,
       lines_added::INTEGER AS lines_added, lines_deleted::INTEGER AS lines_deleted,
       (lines_added + lines_deleted)::INTEGER AS churn,
       make_timestamp(last_ts::BIGINT * 1000000) AS last_changed_at,
       complexity::INTEGER AS complexity,
       coalesce(sqrt(change_n * complexity_n), 0.0) AS score,
       $window::INTEGER AS window_days, status AS history_status
FROM scored ORDER BY rel_path
"""


def hotspots(repo: str, commit: str, files: Sequence[str], complexity: pa.Table,
             head: Head | None, churn: ChurnLog | None, window_days: int,
             tree: Tree | None = None) -> pa.Table:
    """analytics.hotspots rows: one per path of `files` (the scanned Python files), with
    `complexity` (rel_path, complexity: core.ast_metrics) and the `churn` of the history
    before `head` (None without history: zeros, history_status says why); a file under a
    submodule of `tree` (the commit's) has its history elsewhere: zeros, status submodule."""
    status = status_of(head)
    in_sub = tree.in_submodule if tree else (lambda _: False)
    changes = [(path, c.sha, c.email, c.author_ts, c.added, c.deleted)
               for path, commits in (churn.commits.items() if churn else ())
               for c in commits]
    names = ("rel_path", "sha", "email", "author_ts", "added", "deleted")
    con = duckdb.connect()
    con.register("files", pa.table({
        "rel_path": pa.array(list(files), pa.string()),
        "status": pa.array([SUBMODULE if in_sub(p) else status for p in files], pa.string())}))
    con.register("changes", pa.table(
        {n: pa.array([r[i] for r in changes], t) for i, (n, t) in enumerate(zip(names, (
            pa.string(), pa.string(), pa.string(), pa.int64(), pa.int64(), pa.int64())))}))
    con.register("metrics", complexity)
    start = (head.ts - window_days * _DAY) if head and head.sha else 0
    out = con.sql(_HOTSPOTS_SQL, params={"repo": repo, "commit": commit, "start": start,
                                      "window": window_days}).to_arrow_table()
    return out


# ---- function_history -----------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """A function or method of core.goids: its GOID, file, qualname and span (work-tree
    lines)."""

    goid: Decimal
    rel_path: str
    qualname: str
    span: Span


_RAW = pa.schema([("goid", pa.decimal128(38, 0)), ("rel_path", pa.string()),
                  ("qualname", pa.string()), ("created_in_commit", pa.string()),
                  ("created_ts", pa.int64()), ("last_modified_commit", pa.string()),
                  ("last_modified_ts", pa.int64()), ("commit_count", pa.int32()),
                  ("author_count", pa.int32()), ("lines_added", pa.int32()),
                  ("lines_deleted", pa.int32()), ("span_lines", pa.int32()),
                  ("oldest_in_window_ts", pa.int64()), ("newest_before_window_ts", pa.int64()),
                  ("uncommitted", pa.bool_()), ("unknown", pa.bool_())])


def history_rows(defs: Sequence[Definition], histories: Sequence[SpanHistory],
                 log: Sequence[PatchCommit], start_ts: int, unknown: bool = False
                 ) -> list[dict]:
    """Raw rows (the _RAW schema) of `defs` of one file from their traces over the file's
    `log`; counts only commits with author time >= `start_ts` (the window). A def line of
    unknown origin (uncommitted, or past a shallow boundary) leaves created_* NULL.
    `unknown`: the file's history is not this repository's (a submodule's file): NULL
    history."""
    meta = {c.sha: c for c in log}
    out = []
    for d, h in zip(defs, histories):
        window = [c for c in h.changes if meta[c.sha].author_ts >= start_ts]
        created = h.created_in or (h.changes[-1].sha if h.changes and not h.origin_unknown
                                   else None)
        last = h.changes[0].sha if h.changes else None
        out.append({
            "goid": d.goid, "rel_path": d.rel_path, "qualname": d.qualname,
            "created_in_commit": created,
            "created_ts": meta[created].author_ts if created else None,
            "last_modified_commit": last,
            "last_modified_ts": meta[last].author_ts if last else None,
            "commit_count": len(window),
            "author_count": len({meta[c.sha].email for c in window}),
            "lines_added": sum(c.added for c in window),
            "lines_deleted": sum(c.deleted for c in window),
            "span_lines": d.span.end - d.span.start + 1,
            "oldest_in_window_ts": min((meta[c.sha].author_ts for c in window), default=None),
            "newest_before_window_ts": max((meta[c.sha].author_ts for c in h.changes
                                            if meta[c.sha].author_ts < start_ts), default=None),
            "uncommitted": h.uncommitted, "unknown": unknown,
        })
    return out


def trace_file(path: str, defs: Sequence[Definition], log: Sequence[PatchCommit],
               start_ts: int, worktree: FileDiff | None = None,
               boundary: frozenset[str] = frozenset()) -> list[dict]:
    """Raw rows of one file's definitions (see history_rows): their work-tree spans mapped
    to HEAD through `worktree` (the file's uncommitted diff, None when clean), then traced
    through `log` up to the shallow `boundary` commits."""
    spans = line_trace.through_worktree(worktree, [d.span for d in defs])
    return history_rows(defs, line_trace.trace_spans(log, path, spans, boundary), log,
                        start_ts)


def raw_table(rows: Sequence[dict]) -> pa.Table:
    """Raw rows (history_rows) as Arrow in the _RAW schema, what `finish` reads."""
    return pa.Table.from_pylist(list(rows), schema=_RAW)


_FINAL_SQL = f"""
SELECT $repo AS repo, $commit AS "commit", goid, rel_path, qualname, created_in_commit,
       make_timestamp(created_ts * 1000000) AS created_at, last_modified_commit,
       make_timestamp(last_modified_ts * 1000000) AS last_modified_at,
       -- an author date after the commit's time (clock skew) is age 0, never negative
       CASE WHEN created_ts IS NULL THEN NULL
            ELSE greatest($head_ts - created_ts, 0) / {_DAY}.0 END AS age_days,
       CASE WHEN NOT unknown THEN commit_count END AS commit_count,
       CASE WHEN NOT unknown THEN author_count END AS author_count,
       CASE WHEN NOT unknown THEN lines_added END AS lines_added,
       CASE WHEN NOT unknown THEN lines_deleted END AS lines_deleted,
       CASE WHEN NOT unknown THEN (lines_added + lines_deleted)
                                  / greatest(span_lines, 1)::DOUBLE END AS churn_score,
       CASE WHEN unknown THEN NULL
            WHEN uncommitted OR (created_ts IS NOT NULL
                                 AND $head_ts - created_ts <= {NEW_DAYS * _DAY})
              THEN 'new'
            WHEN (lines_added + lines_deleted) / greatest(span_lines, 1)::DOUBLE
                   >= {VOLATILE_CHURN} OR commit_count >= {VOLATILE_COMMITS} THEN 'volatile'
            WHEN commit_count > 0 THEN 'active'
            ELSE 'stable' END AS stability_bucket,
       $window::INTEGER AS window_days
FROM raw ORDER BY rel_path, goid
"""


def finish(repo: str, commit: str, raw: pa.Table, head: Head | None, window_days: int
           ) -> pa.Table:
    """analytics.function_history rows from raw rows: age, churn_score, stability_bucket and
    window_days against HEAD (`head` None or without commits: NULL commits, zero counts,
    bucket 'stable')."""
    con = duckdb.connect()
    con.register("raw", raw)
    return con.sql(_FINAL_SQL, params={"repo": repo, "commit": commit,
                                    "head_ts": head.ts if head and head.sha else 0,
                                    "window": window_days}).to_arrow_table()


# ---- the per-file update ---------------------------------------------------------------------

_CARRIED_SQL = """
SELECT s.goid, s.rel_path, s.qualname, s.created_in_commit,
       epoch(s.created_at)::BIGINT AS created_ts, s.last_modified_commit,
       epoch(s.last_modified_at)::BIGINT AS last_modified_ts, s.commit_count, s.author_count,
       s.lines_added, s.lines_deleted, d.span_lines, NULL::BIGINT AS oldest_in_window_ts,
       NULL::BIGINT AS newest_before_window_ts,
       -- a def line in no commit: the only NULL creation a stored 'new' row has
       s.created_in_commit IS NULL AND s.stability_bucket = 'new' AS uncommitted,
       s.commit_count IS NULL AS unknown  -- only a submodule's file has NULL counts
FROM stored s JOIN spans d USING (goid)
"""


@dataclass(frozen=True)
class HistoryUpdate:
    """function_history after an update: every row of the repository, the ledger (rel_path
    -> `<core.goids fingerprint>|<oldest in-window commit time or ->|<newest commit time
    before the window or ->`), the files whose history was read, and why (full rebuild or
    not)."""

    rows: pa.Table
    ledger: dict[str, str]
    files_read: tuple[str, ...]
    full: bool
    reason: str
    status: str
    version: str  # the ledger version the rows were written under (table_version)
    planned_against: str | None  # ledger_digest of the stored ledger the update started from
    # files read whose bytes changed since the scan: their spans and the work tree disagree,
    # so they are left out of the ledger and read again by the next run
    unrecorded: tuple[str, ...] = ()


def _fingerprint(goids_fp: str, rows: Sequence[dict] = ()) -> str:
    """A file's ledger entry: its core.goids fingerprint and the window starts its rows hold
    for (from its functions' oldest counted commit and newest commit before the window)."""
    oldest = min((r["oldest_in_window_ts"] for r in rows
                  if r["oldest_in_window_ts"] is not None), default=None)
    newest = max((r["newest_before_window_ts"] for r in rows
                  if r["newest_before_window_ts"] is not None), default=None)
    return "|".join([goids_fp, *("-" if t is None else str(t) for t in (oldest, newest))])


def _stale(stored: str | None, goids_fp: str, start: int) -> bool:
    """Whether a file's stored rows are out of date: new file, changed definitions, or the
    window start moved past one of its commits: forward past a counted one (it left), or
    back to an uncounted one (it came in: a commit dated before its parent)."""
    if stored is None:
        return True
    fp, oldest, newest = stored.rsplit("|", 2)
    return fp != goids_fp or (oldest != "-" and int(oldest) < start) or \
        (newest != "-" and int(newest) >= start)


def table_version(head: Head | None, window_days: int) -> str:
    """function_history's ledger version: the trace's VERSION, the window and a shallow
    clone's boundary. The boundary is part of it because deepening a clone (fetch --deepen or
    --unshallow) changes history without a new HEAD, so every file must be traced again."""
    boundary = ",".join(sorted(head.shallow)) if head else ""
    shallow = hashlib.blake2b(boundary.encode(), digest_size=6).hexdigest() if boundary else ""
    # "bounds": ledger entries hold both window bounds (older ones only the oldest commit)
    return ledger_version(FUNCTION_HISTORY, line_trace, f"w{window_days}", "bounds",
                          *([f"shallow-{shallow}"] if shallow else []))


def update_function_history(gateway: StorageGateway, repo: str, root: str, commit: str,
                            git: GitSource, head: Head | None, window_days: int,
                            defs: Mapping[str, Sequence[Definition]],
                            goids_fps: Mapping[str, str], full: bool = False) -> HistoryUpdate:
    """function_history of the definitions `defs` (rel_path -> its functions and methods),
    reading the history of only the files that need it (module docstring). `head`: the
    scanned commit (`git.git_head(root, commit)`); `goids_fps`: rel_path -> core.goids
    ledger fingerprint. A change of `table_version`, or `full`, rebuilds every file."""
    spec = table(FUNCTION_HISTORY)
    version = table_version(head, window_days)
    status = status_of(head)
    start = head.ts - window_days * _DAY if head else 0
    stored = gateway.ledger(spec, repo)
    previous = queries.rows(gateway, spec, repo, ["commit"]) if stored else \
        pa.table({"commit": pa.array([], pa.string())})
    prev_commit = previous.column(0)[0].as_py() if previous.num_rows else ""
    reason = ("full rebuild requested" if full else "no ledger" if stored is None
              else "version changed" if stored[0] != version else "no Git history"
              if not has_history(status) else "")
    touched: frozenset[str] | None = frozenset()
    if not reason and prev_commit != head.sha:
        touched = git.git_touched_since(root, prev_commit, head.sha) if prev_commit else None
        reason = "" if touched is not None else \
            "previous commit is not an ancestor of the scanned one"
    old = stored[1] if stored and not reason else {}
    read = sorted(p for p in defs if reason or p in (touched or ()) or
                  _stale(old.get(p), goids_fps.get(p, ""), start))
    raw_rows: list[dict] = []
    edited: list[str] = []
    ledger = {p: old[p] for p in defs if p not in read and p in old}
    if has_history(status) and read:
        raw_rows = _read_history(git, root, head, read, defs, start)
        by_path: dict[str, list[dict]] = {}
        for r in raw_rows:
            by_path.setdefault(r["rel_path"], []).append(r)
        ledger.update({p: _fingerprint(goids_fps.get(p, ""), by_path.get(p, ())) for p in read})
        edited = sorted(changed_since_scan(root, {p: fingerprint_hash(goids_fps[p])
                                                  for p in read if p in goids_fps}))
        for path in edited:
            del ledger[path]
    else:
        raw_rows = [history_rows([d], [SpanHistory()], [], start)[0]
                    for p in read for d in defs[p]]
        ledger.update({p: _fingerprint(goids_fps.get(p, "")) for p in read})
    carried = [p for p in defs if p not in read]
    raw = raw_table(raw_rows)
    if carried:
        con = duckdb.connect()
        con.register("stored", queries.rows(gateway, spec, repo, paths=carried))
        con.register("spans", pa.table({
            "goid": pa.array([d.goid for p in carried for d in defs[p]], pa.decimal128(38, 0)),
            "span_lines": pa.array([d.span.end - d.span.start + 1 for p in carried
                                    for d in defs[p]], pa.int32())}))
        raw = pa.concat_tables([raw, con.sql(_CARRIED_SQL).to_arrow_table().cast(_RAW)])
    return HistoryUpdate(finish(repo, commit, raw, head, window_days), ledger, tuple(read),
                         bool(reason), reason or "incremental", status, version,
                         ledger_digest(stored), tuple(edited))


def _read_history(git: GitSource, root: str, head: Head, read: Sequence[str],
                  defs: Mapping[str, Sequence[Definition]], start: int) -> list[dict]:
    """Raw rows of the files `read`, from the history before the scanned commit `head`: a
    file the commit does not hold is new since it (untracked or staged: git's index plays no
    part), a submodule's file has NULL history."""
    tree = git.git_tree(root, head.sha)
    committed = [p for p in read if p in tree.files]
    churn = git.git_churn(root, head.sha, committed, head.shallow)
    logs = git.git_patch_logs(root, head.sha, {p: churn.names[p] for p in committed})
    dirty = git.git_worktree_diffs(root, head.sha, committed)
    rows: list[dict] = []
    for path in read:
        if tree.in_submodule(path):
            rows += history_rows(defs[path], [SpanHistory() for _ in defs[path]], [], start,
                                 unknown=True)
        elif path in tree.files:
            rows += trace_file(path, defs[path], logs[path], start, dirty.get(path),
                               head.shallow)
        else:  # new since the commit: every line uncommitted
            rows += trace_file(path, defs[path], [], start, FileDiff(None, path, ()))
    return rows
