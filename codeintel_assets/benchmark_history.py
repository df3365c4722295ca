"""What hotspots and function_history cost, and how well function_history agrees with
`git log -L`: on a synthetic repository (`--commits` commits over `--files` files, made with
one `git fast-import` through the ToolRunner: edits by ten authors over two years, function
moves across files, file renames and merges) and on clones of the repositories given with
`--repo`. For each: the two steps' wall time on a fresh database, then one commit editing one
file and the update's time; then `git log -L<start>,<end>:<file>` (through the ToolRunner) on
`--sample` functions, compared with commit_count and last_modified_commit.

    python -m codeintel_assets.benchmark_history [--repo /work/main] [--sample 200]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

SELECT = "*analytics/hotspots,*analytics/function_history"
ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost",
       "GIT_CONFIG_NOSYSTEM": "1"}
DAY = 86400


# ---- the synthetic repository ------------------------------------------------------------------


def _function(name: str, version: int) -> list[str]:
    return [f"def {name}(x):", f"    y = x + {version}", "    if y > 3:",
            "        y -= 1", "    return y"]


@dataclass
class _Model:
    """The synthetic tree: path -> functions (name -> lines), and fresh-name counters."""

    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    serial: int = 0

    def text(self, path: str) -> str:
        return "\n\n\n".join("\n".join(lines) for lines in self.files[path].values()) + "\n"

    def new_name(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"


def _blob(path: str, text: str) -> str:
    return f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}\n"


def _commit(ref: str, mark: int, email: str, ts: int, message: str, body: str,
            parents: tuple[int, ...] = ()) -> str:
    head = (f"commit {ref}\nmark :{mark}\nauthor A <{email}> {ts} +0000\n"
            f"committer A <{email}> {ts} +0000\ndata {len(message)}\n{message}\n")
    links = "".join(f"{'from' if i == 0 else 'merge'} :{p}\n" for i, p in enumerate(parents))
    return head + links + body + "\n"


def _edit(model: _Model, rng: random.Random, avoid: frozenset[str] = frozenset()
          ) -> tuple[str, str]:
    """One random change to the model, on files not in `avoid`: (fast-import lines, message)."""
    paths = sorted(set(model.files) - avoid)
    path = rng.choice(paths)
    funcs = model.files[path]
    roll = rng.random()
    if roll < 0.02:  # rename the file
        new = model.new_name("pkg/renamed_") + ".py"
        model.files[new] = model.files.pop(path)
        return f"R {path} {new}\n", f"rename {path}"
    if roll < 0.06 and len(funcs) > 1:  # move a function to another file
        name = rng.choice(sorted(funcs))
        other = rng.choice(paths)
        if other != path:
            model.files[other][name] = funcs.pop(name)
            return _blob(path, model.text(path)) + _blob(other, model.text(other)), "move"
    if roll < 0.2:  # add a function
        name = model.new_name("fn_")
        funcs[name] = _function(name, 0)
        return _blob(path, model.text(path)), "add"
    name = rng.choice(sorted(funcs))
    lines = funcs[name]
    at = rng.randrange(1, len(lines))
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    if rng.random() < 0.5:
        lines.insert(at, f"{indent}y += {rng.randrange(100)}")
    else:
        lines[at] += "  # edited"
    return _blob(path, model.text(path)), "edit"


def _paths(lines: str) -> set[str]:
    """The paths fast-import `lines` (M and R commands) name."""
    out = set()
    for line in lines.splitlines():
        if line.startswith("M 100644 inline "):
            out.add(line[16:])
        elif line.startswith("R "):
            out.update(line[2:].split(" "))
    return out


def fast_import_stream(commits: int, files: int, seed: int = 0,
                       start_ts: int = 1_700_000_000) -> str:
    """A `git fast-import` stream of `commits` commits over `files` files, spread over two
    years; every 50th step forks a side branch (one commit), commits on main (other files)
    and merges the side branch: three commits, one a merge of diverged histories."""
    rng = random.Random(seed)
    model = _Model()
    body = ""
    for i in range(files):
        path = f"pkg/mod_{i}.py"
        model.files[path] = {f"f{i}_{k}": _function(f"f{i}_{k}", 0) for k in range(8)}
        body += _blob(path, model.text(path))
    out = [_commit("refs/heads/main", 1, "a0@example.com", start_ts, "initial", body)]
    step = 2 * 365 * DAY // commits
    mark = tip = 1
    while mark < commits:
        ts, email = start_ts + mark * step, f"a{rng.randrange(10)}@example.com"
        lines, message = _edit(model, rng)
        if mark % 50 == 0 and mark + 3 <= commits:
            out.append(_commit("refs/heads/side", mark + 1, email, ts, "side " + message,
                               lines, (tip,)))
            main_lines, main_message = _edit(model, rng, frozenset(_paths(lines)))
            out.append(_commit("refs/heads/main", mark + 2, email, ts + 1, main_message,
                               main_lines, (tip,)))
            # fast-import takes the first parent's tree: the side's changes are replayed
            out.append(_commit("refs/heads/main", mark + 3, email, ts + 2, "merge side",
                               lines, (mark + 2, mark + 1)))
            mark += 3
        else:
            mark += 1
            out.append(_commit("refs/heads/main", mark, email, ts, message, lines, (tip,)))
        tip = mark
    return "".join(out)


def synthetic_repo(root: Path, commits: int = 2000, files: int = 200, seed: int = 0) -> Path:
    """A Git repository at `root` made by one `git fast-import` (through the ToolRunner)."""
    from codeintel_assets.tools.runner import ToolRunner

    runner = ToolRunner()
    root.mkdir(parents=True, exist_ok=True)
    runner.run(["git", "init", "-q", "-b", "main"], cwd=root, env=ENV)
    runner.run(["git", "fast-import", "--quiet"], cwd=root, env=ENV,
               stdin=fast_import_stream(commits, files, seed))
    runner.run(["git", "reset", "-q", "--hard", "main"], cwd=root, env=ENV)
    return root


# ---- timing ------------------------------------------------------------------------------------


def _step_meta(result, step: str) -> dict:
    """The output metadata of `step`'s one table, as plain values."""
    event = next(iter(result.asset_materializations_for_node(step)))
    return {k: v.value for k, v in event.metadata.items()}


def _step_s(result) -> dict[str, float]:
    return {e.step_key: round(e.event_specific_data.duration_ms / 1000, 3)
            for e in result.get_step_success_events()}


def timed_run(repo: Path, db: Path) -> dict:
    """Materialize hotspots and function_history (and the tables they read) into `db`: each
    step's wall time (Dagster's step duration) and what function_history read."""
    from codeintel_assets import run

    started = time.perf_counter()
    result = run.materialize(SELECT, target=str(repo), db=str(db), tools=[],
                             console_log=False)
    history = _step_meta(result, "function_history")
    steps = _step_s(result)
    return {"success": result.success, "wall_s": round(time.perf_counter() - started, 2),
            "hotspots_s": steps.get("hotspots"),
            "function_history_s": steps.get("function_history"),
            "functions": history["functions"], "files": history["files"],
            "files_read": history["files_read"], "mode": history["mode"]}


def one_commit(repo: Path) -> str:
    """Commit an edit of one Python file with functions (a function appended to the first
    such file), through the ToolRunner, an hour after HEAD; returns the file."""
    from codeintel_assets.tools.runner import ToolRunner

    runner = ToolRunner()
    files = runner.run(["git", "ls-files", "*.py"], cwd=repo).stdout.split()
    path = next(p for p in files if "\ndef " in "\n" + (repo / p).read_text(errors="replace"))
    with open(repo / path, "a", encoding="utf-8") as handle:
        handle.write("\n\ndef _bench_added(value):\n    return value\n")
    # an hour after HEAD, as the next commit of the history (not the clock: the synthetic
    # history ends in the past, and a year-long jump would move the window over every file)
    when = f"@{int(runner.run(['git', 'log', '-1', '--format=%ct'], cwd=repo).stdout) + 3600}"
    runner.run(["git", "commit", "-q", "-am", "bench: one commit"], cwd=repo,
               env={**ENV, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
    return path


# ---- agreement with git log -L --------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A sampled function where function_history and `git log -L` disagree."""

    rel_path: str
    qualname: str
    start: int
    end: int
    ours: int
    git_log_l: int
    last_ours: str | None
    last_git: str | None


def agreement(repo: Path, db: Path, sample: int, seed: int = 0) -> dict:
    """`git log -L<start>,<end>:<file>` on `sample` functions (seeded choice): same number
    of commits in the window and the same newest commit as function_history? And, over the
    whole history, the same set of commits as the trace (`sets_agree`)?"""
    from codeintel_assets.extract.line_trace import Span, trace_spans
    from codeintel_assets.tools.git_history import churn_log, patch_log
    from codeintel_assets.tools.runner import ToolRunner

    runner = ToolRunner()
    logs: dict[str, list] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.sql("""
            SELECT g.rel_path, g.qualname, g.start_line, g.end_line, h.commit_count,
                   h.last_modified_commit, h.window_days
            FROM analytics.function_history h JOIN core.goids g USING (repo, goid)
            ORDER BY g.rel_path, g.start_line""").fetchall()
    head_ts = int(runner.run(["git", "log", "-1", "--format=%ct"], cwd=repo).stdout)
    chosen = random.Random(seed).sample(got, min(sample, len(got)))
    names = churn_log(runner, str(repo), "HEAD", sorted({c[0] for c in chosen})).names
    differences, sets_agree = [], 0
    for path, qualname, start, end, count, last, window in chosen:
        out = runner.run(["git", "log", f"-L{start},{end}:{path}", "--format=%H %at", "-s"],
                         cwd=repo).stdout.split("\n")
        entries = [line.split() for line in out if line.strip()]
        if path not in logs:
            logs[path] = patch_log(runner, str(repo), "HEAD", names.get(path, (path,)))
        [traced] = trace_spans(logs[path], path, [Span(start, end, start)])
        sets_agree += {c.sha for c in traced.changes} == {sha for sha, _ in entries}
        in_window = [sha for sha, ts in entries if int(ts) >= head_ts - window * DAY]
        newest = entries[0][0] if entries else None
        if len(in_window) != count or newest != last:
            differences.append(Difference(path, qualname, start, end, count, len(in_window),
                                          last, newest))
    return {"sampled": len(chosen), "agree": len(chosen) - len(differences),
            "sets_agree": sets_agree,
            "share": round(1 - len(differences) / max(len(chosen), 1), 4),
            "differences": [asdict(d) for d in differences]}


def measure(repo: Path, workdir: Path, sample: int) -> dict:
    """Fresh build, one-commit update, agreement: the report of one repository."""
    fresh = timed_run(repo, workdir / "bench.duckdb")
    touched = one_commit(repo)
    update = timed_run(repo, workdir / "bench.duckdb")
    return {"repo": str(repo), "fresh": fresh, "one_commit_update": {**update,
                                                                     "touched": touched},
            "agreement": agreement(repo, workdir / "bench.duckdb", sample)}


def clone(source: Path, dest: Path) -> Path:
    """A full clone of `source`'s HEAD (its history) at `dest`, through the ToolRunner."""
    from codeintel_assets.tools.runner import ToolRunner

    ToolRunner().run(["git", "clone", "-q", "--no-local", str(source), str(dest)], env=ENV)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeintel_assets.benchmark_history",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, action="append", default=[],
                        help="also measure a clone of this repository (repeatable)")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--sample", type=int, default=200,
                        help="functions compared with git log -L per repository")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    reports = []
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        repo = synthetic_repo(work / "synthetic", args.commits, args.files)
        generated = round(time.perf_counter() - started, 2)
        (work / "synthetic-db").mkdir()
        reports.append({**measure(repo, work / "synthetic-db", args.sample),
                        "generate_s": generated})
        for i, source in enumerate(args.repo):
            (work / f"db{i}").mkdir()
            reports.append(measure(clone(source, work / f"repo{i}"), work / f"db{i}",
                                   args.sample))
    for r in reports:
        a, f, u = r["agreement"], r["fresh"], r["one_commit_update"]
        print(f"{r['repo']}: {f['functions']} functions in {f['files']} files; fresh: "
              f"hotspots {f['hotspots_s']} s, function_history {f['function_history_s']} s; "
              f"one-commit update ({u['touched']}, {u['files_read']} file read, {u['mode']}): "
              f"hotspots {u['hotspots_s']} s, function_history {u['function_history_s']} s; "
              f"git log -L agreement {a['agree']}/{a['sampled']} (window count and newest "
              f"commit), {a['sets_agree']}/{a['sampled']} (commit sets, whole history)")
        for d in a["differences"]:
            print(f"  differs: {d}")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
