"""The fleet's repositories: partition keys, the registry (key -> checkout) and the watch list.

In the fleet code location (`codeintel_assets.fleet`) every asset is partitioned by the
`repositories` dynamic partitions; a partition is one checkout. Its key is readable and unique
per checkout, also for two clones of one remote (`click-1a2b3c4d`: the folder's name and a
hash of its absolute path); the remote's slug stays the `repo` column of the rows.

The fleet home (`$CODEINTEL_FLEET_HOME`, default `~/.codeintel/fleet`) holds

    registry.json            {key: {"root", "run_tests"}}: written by the fleet sensor
    repos/<key>/codeintel.duckdb   one DuckDB file per partition (its own lock), and beside
                             it the partition's test runs, SCIP index and logs

Runs resolve their checkout from the registry by partition key, never from run config, so a
partition always names the same work tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from filelock import FileLock

DEFAULT_HOME = Path("~/.codeintel/fleet")
WATCH_FILE = "repositories.yaml"


class FleetError(ValueError):
    """A watch list that cannot be read, or a partition the registry does not know."""


@dataclass(frozen=True)
class Checkout:
    """One repository of the fleet: its work tree (a real path), whether automation may run
    its tests, and whether it was registered by hand (`codeintel-assets materialize --fleet`,
    `run.materialize(fleet=...)`) rather than from the watch list: the sensor keeps those."""

    root: str
    run_tests: bool = False
    by_hand: bool = False

    @property
    def key(self) -> str:
        return partition_key(self.root)


def partition_key(root: str | os.PathLike) -> str:
    """The partition key of the work tree at `root`: `<folder name>-<8 hex digits>`, the
    digits a blake2b hash of the real path (symlinks resolved, so one checkout has one key
    however it is named, and two clones never share one)."""
    path = os.path.realpath(root)
    name = re.sub(r"[^a-z0-9_.-]+", "-", os.path.basename(path).lower()).strip("-.") or "repo"
    digest = hashlib.blake2b(path.encode(), digest_size=4).hexdigest()
    return f"{name[:40]}-{digest}"


def fleet_home(configured: str | os.PathLike = "") -> Path:
    """`configured`, else ~/.codeintel/fleet, absolute."""
    return Path(configured or DEFAULT_HOME).expanduser().resolve()


def partition_db(home: Path, key: str) -> Path:
    """The DuckDB file of partition `key`."""
    return home / "repos" / key / "codeintel.duckdb"


class Registry:
    """key -> Checkout, in `<home>/registry.json` (the sensor and runs registering by hand
    write it; runs and the catalog read it). Every change is one read-modify-write under one
    file lock (`_update`), and the file is replaced whole, so writers in several processes
    never lose each other's entries and readers never see half a file."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.path = self.home / "registry.json"
        self._lock = FileLock(str(self.path) + ".lock")

    def load(self) -> dict[str, Checkout]:
        """key -> Checkout; FleetError when the file is not a registry (edited by hand)."""
        if not self.path.exists():
            return {}
        with self._lock:
            text = self.path.read_text()
        try:
            return {k: Checkout(**v) for k, v in sorted(json.loads(text).items())}
        except (ValueError, TypeError, AttributeError) as exc:
            raise FleetError(f"{self.path} is not a fleet registry ({exc}); delete it and the "
                             "fleet sensor writes it again from the watch list") from exc

    @contextlib.contextmanager
    def _update(self) -> Iterator[dict[str, Checkout]]:
        """The registry to change in place, read and written back under one hold of the lock
        (FileLock is reentrant, so `load` inside takes it again); written only if changed."""
        self.home.mkdir(parents=True, exist_ok=True)
        with self._lock:
            before = self.load()
            after = dict(before)
            yield after
            if after != before:
                tmp = self.path.with_name(f"registry.{os.getpid()}.tmp")
                tmp.write_text(json.dumps({k: asdict(c) for k, c in sorted(after.items())},
                                          indent=1))
                os.replace(tmp, self.path)  # readers never see half a file

    def get(self, key: str) -> Checkout:
        """The checkout of partition `key`; FleetError if the registry has none."""
        found = self.load().get(key)
        if found is None:
            raise FleetError(f"partition {key!r} is not in the fleet registry {self.path}; "
                             "add its work tree to the watch list (repositories.yaml or "
                             "$CODEINTEL_WATCH_REPOS) and let the fleet sensor register it")
        return found

    def sync(self, watched: list[Checkout]) -> tuple[list[str], list[str]]:
        """Make the registry hold exactly `watched`, plus the checkouts registered by hand that
        the watch list does not name; returns (added keys, removed keys). A changed setting
        (run_tests) is updated in place; a watched checkout is no longer by hand."""
        with self._update() as checkouts:
            before = dict(checkouts)
            by_hand = {k: c for k, c in before.items() if c.by_hand}
            checkouts.clear()
            checkouts.update(by_hand)
            checkouts.update({c.key: c for c in watched})
        return sorted(checkouts.keys() - before.keys()), sorted(before.keys() - checkouts.keys())

    def register(self, root: str, run_tests: bool | None = None) -> Checkout:
        """The checkout at `root`, registered by hand if the registry does not have it (with
        `run_tests`, default False). An entry that exists keeps its settings unless
        `run_tests` is given: a one-off run never clears a watch list's opt-in."""
        key = partition_key(root)
        with self._update() as checkouts:
            found = checkouts.get(key)
            if found is None:
                found = Checkout(os.path.realpath(root), bool(run_tests), by_hand=True)
            elif run_tests is not None and run_tests != found.run_tests:
                found = Checkout(found.root, run_tests, found.by_hand)
            checkouts[key] = found
        return found


def watch_list(file: str | os.PathLike | None, extra_roots: str = "") -> list[Checkout]:
    """The watched checkouts: those of the YAML `file` (if it exists), then the
    os.pathsep-separated `extra_roots` ($CODEINTEL_WATCH_REPOS, run_tests off), each root once.

    The file is `repositories: [ROOT | {root: ROOT, run_tests: BOOL}, ...]`; a relative root
    is relative to the file's folder. Raises FleetError naming the file and entry when it does
    not parse or an entry is malformed (a missing folder is not an error: the sensor reports
    it and ingests nothing for it).
    """
    found: list[Checkout] = []
    if file and Path(file).exists():
        base = Path(file).resolve().parent
        try:
            data = yaml.safe_load(Path(file).read_text()) or {}
        except yaml.YAMLError as exc:
            raise FleetError(f"{file}: not valid YAML: {exc}") from exc
        entries = data.get("repositories", []) if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise FleetError(f"{file}: expected `repositories:` with a list of roots")
        for i, entry in enumerate(entries):
            if isinstance(entry, str):
                entry = {"root": entry}
            if not isinstance(entry, dict) or not isinstance(entry.get("root"), str) or \
                    not isinstance(entry.get("run_tests", False), bool) or \
                    set(entry) - {"root", "run_tests"}:
                raise FleetError(f"{file}: repositories[{i}] must be a path or "
                                 f"{{root: PATH, run_tests: true|false}}, not {entry!r}")
            root = (base / os.path.expanduser(entry["root"])).resolve()
            found.append(Checkout(str(root), entry.get("run_tests", False)))
    found += [Checkout(str(Path(p).expanduser().resolve()))
              for p in extra_roots.split(os.pathsep) if p.strip()]
    first: dict[str, Checkout] = {}
    for checkout in found:
        first.setdefault(checkout.root, checkout)  # the first mention wins
    return list(first.values())
