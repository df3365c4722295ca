"""ToolRunner: the one place that starts processes."""

from __future__ import annotations

import ast
import os
import sys
import time
from pathlib import Path

import pytest

import codeintel_assets
from codeintel_assets.tools.runner import ToolExecutionError, ToolNotFoundError, ToolRunner

PACKAGE = Path(codeintel_assets.__file__).parent
FORBIDDEN = {"subprocess", "os.system", "os.popen", "asyncio.create_subprocess_exec",
             "asyncio.create_subprocess_shell", "os.spawnv", "os.execv", "pty.spawn"}


def test_no_process_launch_outside_the_runner():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "tools" / "runner.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                names = [f"{node.value.id}.{node.attr}"]
            hits = [n for n in names if n in FORBIDDEN or n.split(".")[0] == "subprocess"]
            if hits:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {hits}")
    assert offenders == []


def test_every_process_runs_read_only(tmp_path, monkeypatch):
    """Python started through the runner writes no bytecode next to what it imports, and git
    takes no optional lock: a `git status` that finds a stale stat leaves .git/index as it is
    (it would rewrite it otherwise, as the second half shows). A caller may override."""
    from codeintel_assets_tests.conftest import make_git_repo

    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # a shell may set it
    repo = make_git_repo(tmp_path / "repo", {"mod.py": "X = 1\n"})
    runner = ToolRunner()
    runner.run([sys.executable, "-c", "import mod"], cwd=repo)
    assert not (repo / "__pycache__").exists()
    later = (repo / "mod.py").stat().st_mtime + 100
    os.utime(repo / "mod.py", (later, later))
    index = (repo / ".git" / "index").read_bytes()
    runner.run(["git", "-C", str(repo), "status", "--porcelain"])
    assert (repo / ".git" / "index").read_bytes() == index
    runner.run(["git", "-C", str(repo), "status", "--porcelain"],
               env={"GIT_OPTIONAL_LOCKS": "1"})
    assert (repo / ".git" / "index").read_bytes() != index


def test_result_and_exit_code_policy(tmp_path):
    runner = ToolRunner()
    ok = runner.run([sys.executable, "-c", "import os,sys; print(os.getcwd()); "
                     "print(os.environ['X'], file=sys.stderr); sys.exit(3)"],
                    cwd=tmp_path, env={"X": "y"}, ok_codes=(3,))
    assert (ok.returncode, ok.stdout.strip(), ok.stderr.strip()) == (3, str(tmp_path), "y")
    assert ok.wall_s > 0
    with pytest.raises(ToolExecutionError) as err:
        runner.run([sys.executable, "-c", "import sys; print('boom', file=sys.stderr); "
                    "sys.exit(2)"])
    assert err.value.returncode == 2 and "boom" in err.value.stderr_tail
    assert err.value.argv[0] == sys.executable


def test_missing_tool_names_the_tool():
    with pytest.raises(ToolNotFoundError, match="'no-such-tool-xyz' was not found"):
        ToolRunner().run(["no-such-tool-xyz", "--version"])


def test_timeout_kills_the_whole_process_tree(tmp_path):
    pidfile = tmp_path / "child.pid"
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(ToolExecutionError, match="timed out"):
        ToolRunner().run([sys.executable, "-c", code], timeout_s=2)
    assert time.monotonic() - started < 20
    child = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the grandchild outlived the timeout")
