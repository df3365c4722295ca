"""Shared fixtures: real Git repositories written to a temp dir."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV}).stdout.strip()


def rows(db: Path, sql: str) -> list[tuple]:
    """`sql` on a read-only connection to the DuckDB file `db`."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def checks(result) -> dict[str, bool]:
    """`asset/key:check_name` -> passed, for every check a run evaluated."""
    return {f"{e.event_specific_data.asset_key.to_user_string()}:"
            f"{e.event_specific_data.asset_check_key.name}": e.event_specific_data.passed
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_git_repo(root: Path, files: dict[str, str | bytes],
                  remote: str = "https://github.com/acme/widgets.git") -> Path:
    """A Git repository at `root` with `files` committed on branch main and an origin remote."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    if remote:
        git(root, "remote", "add", "origin", remote)
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


# A small but realistic package: src layout, decorators, nesting, async, relative imports,
# TYPE_CHECKING imports, redefinitions, a syntax error, non-UTF-8 bytes and a NUL byte.
SAMPLE_FILES: dict[str, str | bytes] = {
    "src/widgets/__init__.py": '"""Widgets package."""\nfrom .core import Widget\n',
    "src/widgets/core.py": '''"""Core widgets."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from . import util
from .util import helper as h

if TYPE_CHECKING:
    from collections.abc import Iterator


def trace(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


class Widget:
    """A widget.

    Args:
        name (str): the widget's name.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def size(self) -> int:
        return len(self.name)

    @size.setter
    def size(self, value: int) -> None:
        raise AttributeError("read only")

    @trace
    @staticmethod
    def build(name):
        if name and name.strip():
            return Widget(name)
        return None

    async def fetch(self):
        def inner():
            return h(self.name)
        return inner()


def spin(n: int) -> Iterator[int]:
    for i in range(n):
        if i % 2 or i > 10:
            yield i
    util.helper("x")
''',
    "src/widgets/util.py": '''def helper(value):
    """Return the value.

    Parameters
    ----------
    value : str
        Anything.

    Returns
    -------
    str
        The same value.
    """
    import os
    return os.fspath(value) if isinstance(value, os.PathLike) else value
''',
    "src/widgets/sub/__init__.py": "",
    "src/widgets/sub/deep.py": "from ..util import helper\nfrom ... import nothing\n",
    "tests/test_core.py": "from widgets.core import Widget\n\n\ndef test_widget():\n"
                          "    assert Widget('a').size == 1\n",
    "broken.py": "def broken(:\n    pass\n",
    "latin1.py": b"x = '\xe9t\xe9'\n",
    "nul.py": b"x = 1\x00\n",
    "pyproject.toml": '[project]\nname = "widgets"\n\n[tool.widgets]\napi_token = "s3cr3t"\n'
                      'timeout = 30\n',
    "settings.yaml": "database:\n  host: localhost\n  ports: [5432, 5433]\n",
    "CODEOWNERS": "* @acme/all\nsrc/widgets/util.py @acme/utils\n",
}


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "widgets", SAMPLE_FILES)


class Shape:
    """One shape of the asset graph, as a test drives it: `materialize` a repository into
    `db`, and `db_of` the file its rows are in. In the fleet shape `db` names a fleet home
    (`<db>.fleet`), so a test's two databases stay two fleets and its partitions' files
    are the databases it reads."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def home(self, db: Path) -> str | None:
        return str(db) + ".fleet" if self.name == "fleet" else None

    def materialize(self, select, repo: Path, db: Path, **kwargs):
        from codeintel_assets import run

        if self.name == "fleet":
            return run.materialize(select, target=str(repo), fleet=self.home(db), **kwargs)
        return run.materialize(select, target=str(repo), db=str(db), **kwargs)

    def db_of(self, repo: Path, db: Path) -> Path:
        from codeintel_assets import run

        return Path(run.db_file(str(repo), str(db), self.home(db)))


SHAPES = [Shape("single"), Shape("fleet")]


@pytest.fixture(params=SHAPES, ids=str)
def shape(request) -> Shape:
    """Each pipeline test runs in both shapes: single (one database) and fleet (partitioned,
    one database per repository)."""
    return request.param


PROJECT = Path(__file__).resolve().parents[1]
# What a user's checkout holds of Dagster's configuration, and the README.
PROJECT_CONFIG = ("README.md", ".gitignore", "dagster.yaml", "workspace.yaml",
                  "fleet/workspace.yaml", "fleet/repositories.yaml", "fleet/.dagster/dagster.yaml")


def project_copy(dest: Path) -> Path:
    """A Git checkout at `dest` of the project's configuration files (PROJECT_CONFIG), with
    `.venv` linking to this interpreter's environment: the README's commands run in it as
    written from the project root, and `git status --porcelain` shows what they leave behind."""
    for rel in PROJECT_CONFIG:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes((PROJECT / rel).read_bytes())
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "project")
    (dest / ".venv").symlink_to(sys.prefix)  # a symlink, which `.venv/` does not ignore
    (dest / ".git" / "info" / "exclude").write_text(".venv\n")
    return dest


def readme_commands(section_marker: str, doc: str = "README.md") -> list[str]:
    """The shell commands of the first ```bash block containing `section_marker` in `doc` (the
    README, or a page under docs/), one per command (continuation lines joined, comments and
    blank lines dropped)."""
    text = (PROJECT / doc).read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```bash")[1:]]
    block = next(b for b in blocks if section_marker in b)
    joined = re.sub(r"\\\n\s*", "", block)
    return [line.split("  #", 1)[0].strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def stray_paths(project: Path) -> list[str]:
    """Paths under the checkout `project` that are neither tracked nor inside a `.dagster`
    folder (nor .git, .venv, Dagster's temporary `.tmp_dagster_home_*`), empty folders
    included, which `git status` does not show: what commands left in the checkout."""
    tracked = git(project, "ls-files").splitlines()
    known = {*tracked, *(str(p) for t in tracked for p in Path(t).parents)}
    found = []
    for folder, dirs, files in os.walk(project):
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", ".dagster")
                   and not d.startswith(".tmp_dagster_home_")]
        rel = Path(folder).relative_to(project)
        found += [str(rel / name) for name in [*dirs, *files] if str(rel / name) not in known]
    return sorted(found)
