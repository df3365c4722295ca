"""Crash isolation: when a tool that checks many files in one process crashes, find the files
that make it crash by bisection, keep every other file's rows, and record the culprits.

One bad file must not cost the whole repository's diagnostics. ruff 0.17.6, for example, aborts
(exit 134, a stack overflow in a worker thread) on a valid file `x = 1+1+...` of 2,000 terms
whenever it checks that file together with others, and checks it fine alone; pyright or pyrefly
can hit an internal error on one file. `isolate` runs the tool on halves of the failing set,
recursively:

- a half that succeeds contributes its rows;
- a single file that still crashes is a culprit with no rows;
- a set whose halves all succeed crashes only in combination (ruff's case): every row is then
  already in hand, and the culprit is named by pairing each member with a file that is known to
  be fine (`rows_kept` is True: its rows come from the smaller runs).

Only a crash is isolated: `run` raises ToolCrashError for one (a signal, or the tool's
internal-error exit code). Any other error (the target's configuration, a timeout, a missing
tool, a bad command line) passes through untouched. When
more than `max_culprits` files crash, the tool is broken rather than the files, and the first
error is raised again (a failure of our installation fails the step). No dagster import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from codeintel_assets.tools.runner import ToolCrashError, ToolExecutionError

MAX_CULPRITS = 10


@dataclass(frozen=True)
class Culprit:
    """A file a tool crashed on: `reason` is the crash (exit code, output tail); `rows_kept`
    says whether the file's own rows were still produced (by a run of fewer files)."""

    tool: str
    rel_path: str
    reason: str
    rows_kept: bool


@dataclass(frozen=True)
class ToolRows:
    """A tool's rows over many files (analytics.diagnostics rows, see tools/diagnostics.py), the
    files it crashed on, and how many tool runs it took. `excluded`: how many of the given files
    the target's configuration of the tool leaves unchecked (no rows), None when not counted."""

    rows: list[dict] = field(default_factory=list)
    culprits: list[Culprit] = field(default_factory=list)
    runs: int = 0
    excluded: int | None = None


@dataclass
class _Tally:
    """What `isolate` has found so far (mutable while bisecting; returned as ToolRows)."""

    rows: list[dict] = field(default_factory=list)
    culprits: list[Culprit] = field(default_factory=list)
    runs: int = 0


def is_crash(exc: BaseException) -> bool:
    """A tool failure that isolation may explain by files."""
    return isinstance(exc, ToolCrashError)


def reason_of(exc: ToolExecutionError) -> str:
    return f"{exc.reason} (exit code {exc.returncode})\n{exc.stderr_tail}".strip()


def isolate(tool: str, files: Sequence[str], run: Callable[[list[str]], list[dict]],
            crashed: ToolExecutionError, max_culprits: int = MAX_CULPRITS) -> ToolRows:
    """Rows and culprits of `tool` over `files`, which crashed as a whole with `crashed`.

    `run(files)` returns the rows of those files or raises; see the module docstring.
    """
    out = _Tally()
    good: list[str] = []  # files that passed in some run: partners for naming culprits

    def attempt(group: list[str]) -> ToolExecutionError | None:
        out.runs += 1
        try:
            out.rows.extend(run(group))
        except Exception as exc:
            if not is_crash(exc):
                raise
            return exc  # type: ignore[return-value]
        good.extend(group)
        return None

    def blame(path: str, reason: str, rows_kept: bool) -> None:
        out.culprits.append(Culprit(tool, path, reason, rows_kept))
        if len(out.culprits) > max_culprits:
            raise crashed

    def solve(group: list[str], error: ToolExecutionError) -> None:
        if len(group) == 1:
            blame(group[0], reason_of(error), rows_kept=False)
            return
        half = len(group) // 2
        failures = [(part, exc) for part in (group[:half], group[half:])
                    if (exc := attempt(part)) is not None]
        for part, exc in failures:
            solve(part, exc)
        if not failures:  # only the combination crashes: every row is already in hand
            partner = next((g for g in good if g not in group), None)
            named = [p for p in group if partner is not None and _crashes_with(p, partner)]
            for path in named or group:
                blame(path, f"crashes {tool} when checked with other files; its rows come "
                      f"from a run without them\n{reason_of(error)}", rows_kept=True)

    def _crashes_with(path: str, partner: str) -> bool:
        out.runs += 1
        try:
            run([path, partner])
        except Exception as exc:
            if not is_crash(exc):
                raise
            return True
        return False

    solve(list(files), crashed)
    return ToolRows(out.rows, out.culprits, out.runs)
