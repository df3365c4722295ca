"""Where a warehouse lives: its default file inside the target, and its folder, made with a
`.gitignore` so the target's `git status` never shows it. No DuckDB, no Dagster."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

WAREHOUSE_FOLDER = ".codeintel"  # the warehouse's folder inside a target, by default


def default_db_path(target_root: str | os.PathLike) -> Path:
    return Path(target_root) / WAREHOUSE_FOLDER / "codeintel.duckdb"


def warehouse_folder(db_path: str | os.PathLike) -> Path:
    """The folder of the DuckDB file `db_path`, created with its parents. A folder named
    `.codeintel` (the default, inside the target) is given a `.gitignore` of `*` when it has
    none, so the warehouse (database, logs, index, test runs) never shows in the target's `git
    status` nor is committed by `git add -A`; a folder of another name may be the user's own
    and is never written. Raises OSError when the folder cannot be made (NotADirectoryError
    when a file stands where it belongs)."""
    folder = Path(db_path).parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    if folder.name == WAREHOUSE_FOLDER:
        with contextlib.suppress(FileExistsError), \
                (folder / ".gitignore").open("x", encoding="utf-8") as fh:
            fh.write("*\n")
    return folder
