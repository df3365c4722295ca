"""Running scip-python (through the ToolRunner) into a SCIP index file, with crash retries.

scip-python (npm `@sourcegraph/scip-python`, pinned in `codeintel_assets/tools/node`) is a
pyright-based indexer. What this module has to cope with, as observed on 0.6.6:

- It streams the index to `--output` while it runs (metadata first, then one document at a
  time), so a crash leaves a *partial* index behind. `run_index` writes to `<output>.partial`
  and only renames it to `output` after a zero exit code and a successful parse; on any
  failure the partial file is deleted and nothing is left at `output`.
- When one file crashes it (a pyright internal error while visiting that file), it prints to
  stderr (Node's util.inspect of the thrown object)::

      Experienced Fatal Error While Indexing:
      Please create an issue at github.com/sourcegraph/scip-python: {
        currentFilepath: '/abs/path/of/the/file.py',
        error: Error: Debug Failure. False expression.
            at verifyTypeArgumentsAssignable (...typeEvaluator.ts:22528:9)
            ...
      }

  and exits with code 1 (often preceded by `An internal error occurred while type checking
  file "..."` lines). The documents emitted before the crash are complete and good: `run_index`
  keeps them (tools/scip_merge.py: read_streamed) and retries on the files not yet emitted,
  minus the culprit, so a crash late in the emit phase costs a fraction of a second index, not
  a whole one (django 5.2.19 crashes on tests/model_enums/tests.py). The exclusion goes
  through a config served from outside the tree (tools/scip_config.py), so the user's files are
  never written. The index written merges the attempts' documents in canonical form
  (scip_merge.canonical). Caveat: pyright still indexes an excluded file that another indexed
  file imports, so such a culprit crashes the retry again; `run_index` then gives up.
- Outside a Git checkout it needs `--project-version` (it otherwise runs `git rev-parse HEAD`),
  so one is always passed.
- It runs `pip list` / `python3` from PATH to map imports to installed packages (this decides
  the package name/version of external symbols).

No dagster import here: ToolService.scip_index wraps `run_index`.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import DecodeError

from codeintel_assets.paths import rel_path_in_root
from codeintel_assets.tools import scip_pb2
from codeintel_assets.tools.runner import (
    ToolExecutionError,
    ToolNotFoundError,
    ToolResult,
    ToolRunner,
    tail,
)
from codeintel_assets.tools.scip_config import serving
from codeintel_assets.tools.scip_decode import parse_index
from codeintel_assets.tools.scip_merge import (
    merge,
    read_streamed,
    write_index,
)

NODE_DIR = Path(__file__).resolve().parent / "node"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
_INSTALL_CMD = "npm ci --prefix codeintel_assets/tools/node"

_ANY_EXIT_CODE = range(-256, 256)  # run_index inspects the exit code itself
_CULPRIT_RE = re.compile(r"currentFilepath:\s*(['\"`])((?:\\.|(?!\1).)*)\1")
_ANALYSIS_FAILED_RE = re.compile(r"Analysis partially failed with \(\d+/100\)")


@dataclass(frozen=True)
class ScipIndexResult:
    """A finished scip-python run.

    output: absolute path of the index file; size_bytes: its size; tool_version: scip-python's
    version from the index metadata; document_count: documents in the index; excluded_files:
    root-relative posix paths of the files scip-python crashed on, excluded from the final
    attempt; attempts: runs made (1 + retries); wall_s: seconds over all attempts;
    analysis_failures: pyright analysis errors scip-python survived in the final attempt;
    salvaged_documents: documents kept from crashed attempts (emitted before the crash), which
    later attempts did not index again.
    """

    output: str
    size_bytes: int
    tool_version: str
    document_count: int
    excluded_files: tuple[str, ...]
    attempts: int
    wall_s: float
    analysis_failures: int
    salvaged_documents: int = 0


def scip_python_executable(project_root: str) -> str:
    """Absolute path of the pinned scip-python (`codeintel_assets/tools/node/node_modules/.bin`).

    The package directory is located from this module's file, not from `project_root`;
    `project_root` (the codeintel-assets checkout) only shapes the install hint of the
    ToolNotFoundError raised when the executable (or `node`) is missing.
    """
    exe = NODE_DIR / "node_modules" / ".bin" / "scip-python"
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        raise ToolNotFoundError("scip-python", _install_hint(project_root))
    if shutil.which("node") is None:
        raise ToolNotFoundError("node", "install Node.js (>= 18) and make sure `node` is on PATH")
    return str(exe)


def _install_hint(project_root: str) -> str:
    try:
        inside = NODE_DIR.is_relative_to(Path(project_root).resolve())
    except OSError:
        inside = False
    if inside:
        return f"run `{_INSTALL_CMD}` in {Path(project_root).resolve()}"
    return f"run `{_INSTALL_CMD}` in the codeintel-assets checkout (npm ci --prefix {NODE_DIR})"


def run_index(runner: ToolRunner, root: str, output: str, project_name: str,
              project_version: str, timeout_s: float, node_heap_mb: int = 4096,
              max_retries: int = 3, python_bin_dir: str | None = None,
              files: Sequence[str] | None = None) -> ScipIndexResult:
    """Index the Python project at `root` into the SCIP file `output`; never leaves a partial one.

    Runs `scip-python index --project-name N --project-version V --output <output>.partial`
    with cwd=root and NODE_OPTIONS=--max-old-space-size=<node_heap_mb>, and `python_bin_dir` (the
    target interpreter's folder) first on PATH. `files` (root-relative posix paths) are the
    files to index, whatever the target's pyright config includes (its resolution settings
    are kept; tools/scip_config.py); None keeps the config's own file list. `timeout_s` bounds the whole call (all attempts
    together). When an attempt crashes on a file that scip-python names, that file is excluded
    (tools/scip_config.py; nothing in `root` is written) and the run retried, at most
    `max_retries` times: with `files`, on the files the crashed attempt had not emitted yet
    (its documents are kept), else on all of them. `output` is written in canonical form
    (tools/scip_merge.py), the attempts' documents merged. Any other failure (timeout, non-zero exit without a culprit, the same
    culprit again, out of retries, unparsable output) raises ToolExecutionError with nothing
    left at `output`; a missing scip-python or node raises ToolNotFoundError, an empty
    `project_version` ValueError.
    """
    if not project_version:
        # Without a version scip-python runs `git rev-parse HEAD`; outside a checkout it then
        # crashes on the first file with a misleading `currentFilepath`.
        raise ValueError("project_version is required (scip-python crashes without one)")
    root_path = Path(root).resolve()
    out = Path(output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    exe = scip_python_executable(str(PROJECT_ROOT))
    argv = [exe, "index", "--project-name", project_name, "--project-version", project_version,
            "--output", str(partial)]
    heap = f"--max-old-space-size={int(node_heap_mb)}"
    path_env = {}
    if python_bin_dir:
        # scip-python (pyright inside) finds the interpreter, and `pip list`, on PATH: the
        # target's environment first, so imports resolve against its installed packages.
        path_env["PATH"] = os.pathsep.join([python_bin_dir, os.environ.get("PATH", "")])
    _unlink(out)  # a stale index must not pass for this run's result
    excluded: list[str] = []
    # What crashed attempts emitted before the crash, and the files no attempt emitted yet
    # (None: the config's own file list, which cannot be narrowed to the rest).
    salvaged: list[scip_pb2.Index] = []
    remaining = None if files is None else list(files)
    started = time.perf_counter()
    attempts = 0
    result = None
    while attempts == 0 or remaining is None or remaining:
        time_left = timeout_s - (time.perf_counter() - started)
        if time_left <= 0:
            raise ToolExecutionError(argv, None, "", f"timed out after {timeout_s:.0f}s "
                                     f"({attempts} attempts, excluded {excluded})")
        attempts += 1
        _unlink(partial)
        try:
            with serving(root_path, remaining, excluded, heap) as env:
                result = runner.run(argv, cwd=str(root_path), env={**env, **path_env},
                                    timeout_s=time_left, ok_codes=_ANY_EXIT_CODE)
        except BaseException:
            _unlink(partial)
            raise
        if result.returncode == 0:
            break
        culprit = _retry_culprit(argv, result, root_path, excluded, attempts, max_retries,
                                 node_heap_mb, partial)
        excluded.append(culprit)
        if remaining is not None:
            emitted, _complete = read_streamed(partial)
            salvaged.append(emitted)
            done = {d.relative_path for d in emitted.documents}
            remaining = [f for f in remaining if f not in done and f not in excluded]
        _unlink(partial)
        result = None

    try:
        fresh = [] if result is None else [parse_index(partial)]
    except (DecodeError, OSError) as exc:
        _unlink(partial)
        raise ToolExecutionError(argv, 0, tail(result.stderr, 40), f"unreadable index: {exc}") from exc
    index = merge(None, lambda _path: False, [*salvaged, *fresh],
                  lambda path: path not in excluded)
    size = write_index(index, out)
    _unlink(partial)
    return ScipIndexResult(
        output=str(out),
        size_bytes=size,
        tool_version=index.metadata.tool_info.version,
        document_count=len(index.documents),
        excluded_files=tuple(excluded),
        attempts=attempts,
        wall_s=round(time.perf_counter() - started, 3),
        analysis_failures=0 if result is None else
        len(_ANALYSIS_FAILED_RE.findall(result.stdout)),
        salvaged_documents=sum(len(i.documents) for i in salvaged),
    )


def _retry_culprit(argv: list[str], result: ToolResult, root: Path, excluded: list[str],
                   attempts: int, max_retries: int, node_heap_mb: int, partial: Path) -> str:
    """The file a failed attempt crashed on, to exclude from the next; raises
    ToolExecutionError (the partial index deleted) when there is none to retry without."""
    output_tail = tail(result.stderr or result.stdout, 40)
    culprit = crash_culprit(result.stderr, root)
    if culprit is None:
        reason = _failure_reason(result, node_heap_mb)
    elif culprit in excluded:
        reason = (f"scip-python crashed on {culprit} again although it is excluded (another "
                  "indexed file imports it, so pyright still indexes it)")
    elif attempts > max_retries:
        reason = f"scip-python crashed on {culprit} after {max_retries} retries (excluded {excluded})"
    else:
        return culprit
    _unlink(partial)
    raise ToolExecutionError(argv, result.returncode, output_tail, reason)


def _failure_reason(result: ToolResult, node_heap_mb: int) -> str:
    text = f"{result.stderr}\n{result.stdout}"
    if "heap out of memory" in text or "Reached heap limit" in text:
        return f"scip-python ran out of memory (node heap {node_heap_mb} MB; raise node_heap_mb)"
    if "Experienced Fatal Error While Indexing" in text:
        return "scip-python failed (fatal error not attributed to a file)"
    return "scip-python failed"


def crash_culprit(stderr: str, root: Path) -> str | None:
    """Root-relative posix path of the file scip-python names in its crash report, else None
    (no report, or a file outside `root`). The last report in `stderr` wins."""
    match = None
    for match in _CULPRIT_RE.finditer(stderr or ""):
        pass  # the last report wins
    if match is None:
        return None
    return rel_path_in_root(re.sub(r"\\(.)", r"\1", match.group(2)), str(root))


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
