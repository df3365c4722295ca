"""Launch the ingestion run for one commit through Dagster's GraphQL API, from a Git hook.

The git-HEAD sensor polls every 30 s; a hook makes a commit (or a push to a server checkout)
reach the warehouse at once. `codeintel-assets install-hook` writes the `post-commit` hook (`.git/hooks/`)
calling

    python -m codeintel_assets.trigger --root <work tree> [--url URL]

which reads the slug and HEAD with git (through the ToolRunner) and launches
`codeintel_ingest_job` with the run tags the sensor uses (`codeintel/repo`,
`codeintel/commit`), so the sensor does not launch the commit again. In the fleet code location
the run is the repository's partition (its key from storage/fleet.py); the single location
serves one target repository, and a hook in another repository says to use the fleet. For a
server, call the same command from a `post-receive` hook after the checkout is updated. The trigger never fails the Git command: errors are printed and the exit code is 0
unless `--strict`. It imports nothing heavy (no Dagster), so the hook costs well under a second.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import stat
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from codeintel_assets.launch import (
    COMMIT_TAG,
    DEFAULT_URL,
    FLEET,
    INGEST_JOB,
    PARTITION_TAG,
    POLL_INTERVAL_S,
    REPO_TAG,
    SHAPE_TAG,
    TARGET_ROOT_TAG,
    TRIGGER_TAG,
    URL_ENV,
    dagster_url,
    run_config,
)

HOOK_MARKER = "# codeintel-assets post-commit hook"

_WORKSPACE_Q = """{ workspaceOrError { __typename
  ... on Workspace { locationEntries { name locationOrLoadError { __typename
    ... on RepositoryLocation { repositories { name jobs { name tags { key value } } } } } } }
  ... on PythonError { message } } }"""

_LAUNCH_M = """mutation Launch($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) { __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message } } }"""

# Local Dagster servers: never send these requests through an HTTP proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TriggerError(RuntimeError):
    """Dagster could not be reached, or refused the launch."""


@dataclass(frozen=True)
class JobLocation:
    """Where a loaded code location defines a job, and the job's tags (launch.SHAPE_TAG,
    launch.TARGET_ROOT_TAG)."""

    location: str
    repository: str
    tags: dict[str, str]


def graphql(url: str, query: str, variables: dict | None = None, timeout_s: float = 5) -> dict:
    """POST one GraphQL request to `url`/graphql; returns `data` or raises TriggerError."""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/graphql", method="POST",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TriggerError(f"Dagster at {url} is not reachable: {exc}") from exc
    if body.get("errors"):
        raise TriggerError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def find_job(url: str, job: str = INGEST_JOB) -> JobLocation:
    """The loaded location that defines `job`, with the job's tags."""
    workspace = graphql(url, _WORKSPACE_Q)["workspaceOrError"]
    for entry in workspace.get("locationEntries", []):
        location = entry.get("locationOrLoadError") or {}
        for repo in location.get("repositories", []):
            for found in repo["jobs"]:
                if found["name"] == job:
                    return JobLocation(entry["name"], repo["name"],
                                       {t["key"]: t["value"] for t in found.get("tags") or []})
    raise TriggerError(f"no loaded code location at {url} defines job {job!r}")


def launch(root: str, url: str | None = None) -> tuple[str, str]:
    """Launch codeintel_ingest_job for the work tree `root` at its HEAD; returns (run id, sha).

    Tags: codeintel/repo and codeintel/commit (the git-HEAD sensor skips commits that already
    have a run with both), codeintel/trigger = hook, and in the fleet location the
    repository's partition. Raises TriggerError when the single location serves another
    repository (use the fleet location for more than one).
    """
    from codeintel_assets.storage.fleet import partition_key
    from codeintel_assets.tools.git import repo_info

    url = url or dagster_url()
    info = repo_info(root, head_only=True)
    if not info.commit:
        raise TriggerError(f"{root} has no Git HEAD")
    found = find_job(url)
    tags = {REPO_TAG: info.slug, COMMIT_TAG: info.commit, TRIGGER_TAG: "hook"}
    config = {}
    if found.tags.get(SHAPE_TAG) == FLEET:  # the registry, not run config, names the root
        tags[PARTITION_TAG] = partition_key(info.root)
    elif os.path.realpath(found.tags.get(TARGET_ROOT_TAG, "")) != os.path.realpath(info.root):
        raise TriggerError(
            f"the code location {found.location!r} at {url} indexes "
            f"{found.tags.get(TARGET_ROOT_TAG) or 'another repository'}, not {info.root}; to "
            "index several repositories, run the fleet location (DAGSTER_HOME=$PWD/fleet/.dagster "
            "dagster dev -w fleet/workspace.yaml) with this one in fleet/repositories.yaml")
    else:
        config = run_config(info.root)
    result = graphql(url, _LAUNCH_M, {"executionParams": {
        "selector": {"repositoryLocationName": found.location,
                     "repositoryName": found.repository, "jobName": INGEST_JOB},
        "runConfigData": json.dumps(config),
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }})["launchPipelineExecution"]
    if result["__typename"] != "LaunchRunSuccess":
        raise TriggerError(f"launch refused ({result['__typename']}): {result}")
    return result["run"]["runId"], info.commit


HOOK_TEMPLATE = """#!/bin/sh
{marker}
# Ingests each new commit at once. Installed by `codeintel-assets install-hook`.
# Remove this file to stop; the git-HEAD sensor still picks commits up within {interval} s.
root=$(git rev-parse --show-toplevel) || exit 0
{python} -m codeintel_assets.trigger --root "$root" --url "${{{url_env}:-{url}}}" || true
"""


def install_hook(repo: str | os.PathLike, url: str | None = None,
                 python: str = sys.executable) -> Path:
    """Write the `post-commit` hook (executable) into the folder Git runs `repo`'s hooks from
    (tools/git.hooks_dir: `.git/hooks`, the main repository's for a linked worktree,
    core.hooksPath), replacing an earlier one of ours; raises TriggerError if `repo` is no Git
    work tree or another post-commit hook is there."""
    from codeintel_assets.tools.git import hooks_dir

    url = url or dagster_url()
    folder = hooks_dir(repo)
    if folder is None:
        raise TriggerError(f"{repo} is not the top of a Git work tree")
    folder.mkdir(parents=True, exist_ok=True)  # core.hooksPath may name one not yet made
    hook = folder / "post-commit"
    if hook.exists() and HOOK_MARKER not in hook.read_text(errors="replace").splitlines():
        raise TriggerError(f"{hook} exists and is not ours; call "
                           "`python -m codeintel_assets.trigger` from it instead")
    if any(c in url for c in "\"$`\\}"):
        raise TriggerError(f"unsupported characters in URL {url!r}")
    hook.write_text(HOOK_TEMPLATE.format(marker=HOOK_MARKER, python=shlex.quote(python),
                                         url=url, url_env=URL_ENV, interval=POLL_INTERVAL_S))
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeintel_assets.trigger",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="work tree to ingest (at its HEAD)")
    parser.add_argument("--url", default=None,
                        help=f"Dagster webserver (default ${URL_ENV}, else {DEFAULT_URL})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the launch fails")
    args = parser.parse_args(argv)
    try:
        run_id, sha = launch(os.path.abspath(args.root), args.url)
    except TriggerError as exc:
        print(f"codeintel-assets: ingestion not triggered: {exc}", file=sys.stderr)
        return 1 if args.strict else 0
    print(f"codeintel-assets: ingesting {sha[:12]} in run {run_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
