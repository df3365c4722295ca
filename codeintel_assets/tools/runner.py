"""ToolRunner: the only code in the package that starts a process.

Every external program (git today; pyright, pyrefly, ruff, coverage, pytest and scip-python as
their assets land) runs through `ToolRunner.run`: an argv list (never a shell), a working
directory, an environment, a timeout, captured output, the exit code and the wall time.

Every program runs with READ_ONLY_ENV (a caller's `env` may override it), because they all run
in or on the target's tree, which the warehouse must never write: git takes no optional locks
(`git status`/`git diff` would otherwise refresh .git/index), and Python writes no bytecode
(pyright, pyrefly and scip-python start the target's interpreter, whose `.pth` imports could
leave `__pycache__` in a `.venv` inside the tree; the test run imports the target's modules).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# A program `ToolRunner.start` left running (the type callers outside tools/ name).
Process = subprocess.Popen

READ_ONLY_ENV = {"GIT_OPTIONAL_LOCKS": "0", "PYTHONDONTWRITEBYTECODE": "1"}

_INSTALL_HINTS = {
    "git": "install git (apt-get install git)",
}


class ToolNotFoundError(RuntimeError):
    """The executable is not on PATH (or at the configured path)."""

    def __init__(self, tool: str, hint: str = "") -> None:
        hint = hint or _INSTALL_HINTS.get(tool, "install it and make sure it is on PATH")
        super().__init__(f"tool {tool!r} was not found: {hint}")
        self.tool = tool


class ToolExecutionError(RuntimeError):
    """The tool timed out, or exited with a code its caller does not accept."""

    def __init__(self, argv: Sequence[str], returncode: int | None, stderr_tail: str, reason: str):
        super().__init__(
            f"{reason}: {' '.join(argv)} (exit code {returncode}); stderr tail:\n{stderr_tail}"
        )
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        self.reason = reason


class ToolTimeoutError(ToolExecutionError):
    """The tool ran past its timeout and was killed (with its whole process group)."""


class ToolCrashError(ToolExecutionError):
    """The tool died (a signal such as SIGABRT or SIGSEGV, or its own internal-error exit code)
    while checking files: the files it crashes on can be found (tools/isolate.py)."""


class TargetCausedError(ToolExecutionError):
    """The tool ran, but the target made it fail: its configuration is invalid for the tool,
    its test suite crashed at start-up, collected nothing or ran past the timeout. Callers record
    this as data (a status, the reason, a failing WARN check), never as a failed step."""


@dataclass(frozen=True)
class ToolResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float


@dataclass(frozen=True)
class ToolRunner:
    """Runs programs with a per-call timeout; `ok_codes` lists the exit codes that mean success."""

    default_timeout_s: float = 600.0

    def run(
        self,
        argv: Sequence[str],
        cwd: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        ok_codes: Sequence[int] = (0,),
        stdin: str | None = None,
    ) -> ToolResult:
        """Run `argv` (no shell) and return its output; `env` adds to this process's
        environment and READ_ONLY_ENV; `stdin` is written to its standard input (none when
        None). Raises ToolNotFoundError, ToolTimeoutError, or
        ToolExecutionError for an exit code outside `ok_codes`."""
        exe = argv[0]
        if shutil.which(exe) is None:
            raise ToolNotFoundError(os.path.basename(exe))
        started = time.perf_counter()
        timeout = timeout_s or self.default_timeout_s
        # Own session, so a timeout can kill the whole tree: pyright's wrapper starts node,
        # and pytest may start processes of its own.
        # argv list, never a shell
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env={**os.environ, **READ_ONLY_ENV, **(env or {})},
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace", start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            _, stderr = proc.communicate()
            raise ToolTimeoutError(argv, None, tail(stderr),
                                   f"timed out after {timeout:.0f}s") from None
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        if proc.returncode not in ok_codes:
            raise ToolExecutionError(argv, proc.returncode, tail(stderr), "tool failed")
        return ToolResult(tuple(argv), proc.returncode, stdout, stderr,
                          time.perf_counter() - started)


    def start(self, argv: Sequence[str], cwd: str | os.PathLike, env: Mapping[str, str],
              log: str | os.PathLike) -> Process:
        """Start a long-running program (a server: `dagster dev`) in a session of its own,
        its stdout and stderr into the file `log`, stdin closed, `env` as its whole
        environment (not added to this process's: a server must not inherit our DAGSTER_HOME)
        with SIGINT and SIGTERM at their defaults; stop it with `stop`. Raises
        ToolNotFoundError when argv[0] is not found."""
        if shutil.which(argv[0]) is None:
            raise ToolNotFoundError(os.path.basename(argv[0]))
        with open(log, "wb") as out:
            return subprocess.Popen(
                list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=dict(env), start_new_session=True,
                preexec_fn=_restore_default_signals)

    @staticmethod
    def stop(proc: Process, grace_s: float = 30.0) -> None:
        """SIGTERM the whole process group `proc` leads (what `start` made), wait up to
        `grace_s` seconds for it to shut down gracefully, then SIGKILL what is left: `dagster
        dev` leaves its daemon and code server running when only its own pid is signalled."""
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and (proc.poll() is None or _group_alive(proc.pid)):
            time.sleep(0.25)
        _kill_group(proc)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _restore_default_signals() -> None:  # runs in the child before exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is left in process group `pgid` (read from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def tail(text: str | bytes | None, lines: int = 20) -> str:
    """The last `lines` lines of a tool's output (what error messages and metadata quote)."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").splitlines()[-lines:])
