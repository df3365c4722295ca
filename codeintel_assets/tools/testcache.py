"""Where the shared test run of a snapshot lives: `<base>/<key>/` (ToolService.test_run's
workdir), which run's key it is, and which old folders are deleted.

The key (ToolService.test_run_key) fingerprints the work tree. The suite itself may write into
the tree (a test creating an untracked file), so the two steps of one Dagster run could compute
different keys and run the suite twice. The first step of a run to ask therefore computes the
key and pins it under the run id (`<base>/.runs/<run_id>`, a one-line file written under a
lock); the other step reads it. A later run computes a new key: an edit between runs is seen.
A run that must not reuse results (`materialize --full`, `--rerun-tests`) asks with `fresh`:
its first step deletes the key's folder, so the suite runs once into it and the run's other
step, and later runs of the same key, reuse that new run. No dagster import.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from filelock import FileLock

PINS = ".runs"
KEEP_PINS = 20  # run ids remembered; a pin is only needed while its run's steps execute


def run_folder(base: str, run_id: str, compute_key: Callable[[], str],
               fresh: bool = False) -> str:
    """The test-run folder of Dagster run `run_id` under `base` (see the module docstring);
    `compute_key()` is called only by the first caller of a run, which deletes the folder's
    earlier results when `fresh`. Raises OSError when `base` cannot be written."""
    pins = os.path.join(base, PINS)
    os.makedirs(pins, exist_ok=True)
    pin = os.path.join(pins, run_id)
    with FileLock(os.path.join(pins, ".lock")):
        if os.path.exists(pin):
            with open(pin, encoding="utf-8") as fh:
                key = fh.read().strip()
        else:
            key = compute_key()
            if fresh:
                shutil.rmtree(os.path.join(base, key), ignore_errors=True)
            with open(pin, "w", encoding="utf-8") as fh:
                fh.write(key)
            _prune_pins(pins)
    return os.path.join(base, key)


def _prune_pins(pins: str) -> None:
    entries = sorted((e for e in os.scandir(pins) if e.is_file() and e.name != ".lock"),
                     key=lambda e: e.stat().st_mtime, reverse=True)
    for entry in entries[KEEP_PINS:]:
        os.remove(entry.path)


def prune(base: str, keep: str) -> None:
    """Delete the test-run folders of older snapshots: all but `keep` (a folder name) and the
    newest other one (a step of the previous snapshot may still be reading it). Folders whose
    name starts with '.' (the pins) are not test runs and stay."""
    others = sorted((e for e in os.scandir(base) if e.is_dir() and e.name != keep
                     and not e.name.startswith(".")),
                    key=lambda e: e.stat().st_mtime, reverse=True)
    for entry in others[1:]:
        shutil.rmtree(entry.path, ignore_errors=True)


def previous(base: str, keep: str) -> str | None:
    """The newest test-run folder under `base` other than `keep` that holds a finished run
    (its run.json), None when there is none: the run a selective run builds on."""
    if not os.path.isdir(base):
        return None
    folders = sorted((e for e in os.scandir(base) if e.is_dir() and e.name != keep
                      and not e.name.startswith(".")
                      and os.path.exists(os.path.join(e.path, "run.json"))),
                     key=lambda e: e.stat().st_mtime, reverse=True)
    return folders[0].path if folders else None
