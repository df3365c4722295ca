"""A `dagster dev` process started, waited for and stopped the way an operator would: in its own
process group, on 127.0.0.1 at a free port, stopped by group (it ignores SIGTERM when started
in the background, and its daemon and code server are children of their own); the process
itself is the ToolRunner's (`start`, `stop`), like every program the package runs.

Used by the end-to-end tests and by `benchmark_devpush` (seconds from a commit to every table
current). No Dagster import: the server is a subprocess, spoken to through GraphQL
(trigger.graphql).
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from codeintel_assets.tools.runner import Process, ToolRunner
from codeintel_assets.trigger import graphql

_LOCATIONS_Q = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
# Local servers only: never through an HTTP proxy.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DevServerError(RuntimeError):
    """`dagster dev` exited, or did not serve its code locations in time (the message ends with
    the tail of its log)."""


@dataclass(frozen=True)
class DagsterDev:
    """A running `dagster dev`: its port, process (the group leader) and log file."""

    port: int
    proc: Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 6000) -> str:
        """The last `n` characters of the server's combined stdout and stderr."""
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""

    def gql(self, query: str, variables: dict | None = None, timeout_s: float = 30) -> dict:
        """One GraphQL request's `data`; raises trigger.TriggerError on errors."""
        return graphql(self.url, query, variables, timeout_s=timeout_s)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_dagster_dev(cwd: Path, env: dict[str, str], log: Path, command: Sequence[str],
                        ready_s: float = 90) -> Iterator[DagsterDev]:
    """`command` (`dagster dev` and its arguments, without -h/-p) started in `cwd` (which holds
    its workspace.yaml and dagster.yaml, or $DAGSTER_HOME does), yielded once the webserver
    answers and every code location is LOADED; stopped by process group on exit. Raises
    DevServerError when it exits or is not ready within `ready_s` seconds."""
    port, runner = free_port(), ToolRunner()
    proc = runner.start([*command, "-h", "127.0.0.1", "-p", str(port)], cwd, env, log)
    dev = DagsterDev(port, proc, log)
    try:
        _wait_ready(dev, time.monotonic() + ready_s)
        yield dev
    finally:
        runner.stop(proc)


def _wait_ready(dev: DagsterDev, deadline: float) -> None:
    def check(what: str) -> None:
        if dev.proc.poll() is not None:
            raise DevServerError(f"dagster dev exited {dev.proc.returncode}:\n{dev.log_tail()}")
        if time.monotonic() > deadline:
            raise DevServerError(f"dagster dev: {what} in time:\n{dev.log_tail()}")

    while True:
        check("webserver not answering")
        try:
            with _LOCAL.open(f"{dev.url}/server_info", timeout=2) as resp:
                if resp.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    # The webserver answers before its code locations have loaded.
    while True:
        entries = dev.gql(_LOCATIONS_Q)["workspaceOrError"]["locationEntries"]
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            return
        check(f"code locations not loaded ({entries})")
        time.sleep(0.5)
