"""repo_scan pieces: file listing, classification, module names, tags and owners."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.scan import (
    classify,
    list_files,
    scan_file,
    walk_tree,
)
from codeintel_assets.extract.tags import (
    DEFAULT_TAGS,
    TagRulesError,
    load_codeowners,
    load_tag_rules,
    owners_of,
)
from codeintel_assets_tests.conftest import make_git_repo, write_files


def test_list_files_applies_default_excludes(tmp_path):
    write_files(tmp_path, {
        "pkg/a.py": "", "pkg/data.json": "{}", "README.md": "", ".venv/lib/x.py": "",
        "node_modules/m/index.py": "", "build/lib/pkg/a.py": "", "pkg/__pycache__/a.py": "",
        ".git/hooks/h.py": "", ".codeintel/x.json": "{}", "pkg/x.egg-info/y.cfg": "",
        "src/p/stub.pyi": "", ".env": "A=1",
    })
    assert list_files(tmp_path) == [".env", "pkg/a.py", "pkg/data.json", "src/p/stub.pyi"]


def test_list_files_custom_patterns(tmp_path):
    write_files(tmp_path, {"a/x.py": "", "b/y.py": "", "b/gen/z.py": ""})
    assert list_files(tmp_path, ["*.py"], ["gen/", "a/"]) == ["b/y.py"]


def test_list_files_skips_symlinks(tmp_path):
    write_files(tmp_path, {"real/a.py": ""})
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "b.py").symlink_to(tmp_path / "real" / "a.py")
    assert list_files(tmp_path) == ["real/a.py"]


@pytest.mark.parametrize("data, status, fragment", [
    (b"x = 1\n", "ok", None),
    (b"def f(:\n", "syntax_error", "line 1"),
    (b"x = '\xff'\n", "decode_error", "not decodable"),
    (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "ok", None),
    (b"x = 1\x00\n", "binary", "NUL"),
    (b"x = 1\n" * 100, "too_large", "exceeds"),
    (b"((((" * 100_000, "syntax_error", ""),
])
def test_classify_python(data, status, fragment):
    got_status, error = classify(data, "python", max_file_bytes=500 if status == "too_large"
                                 else 10_000_000)
    assert got_status == status
    if fragment is not None:
        assert fragment in error


def test_classify_config_only_decodes(tmp_path):
    assert classify(b"not: [valid", "yaml", 1000) == ("ok", None)
    assert classify(b"\xff\xfe", "json", 1000)[0] == "decode_error"


def test_scan_file_row(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")
    row = scan_file(FileJob("r", "c", "a.py", str(path)))["core.file_state"][0]
    assert row["size_bytes"] == 6 and row["language"] == "python"
    assert row["parse_status"] == "ok" and len(row["content_hash"]) == 32
    assert row["mtime_ns"] == path.stat().st_mtime_ns


def test_tag_rules_default_and_from_yaml(tmp_path):
    assert load_tag_rules(tmp_path) == DEFAULT_TAGS
    (tmp_path / "tags_index.yaml").write_text(
        "tags:\n  - tag: api\n    description: public API\n    includes: ['src/pkg/api/']\n"
        "    excludes: ['*_test.py']\n")
    (rule,) = load_tag_rules(tmp_path)
    assert rule.matches(["src/pkg/api/a.py", "src/pkg/api/a_test.py", "src/pkg/b.py"]) == \
        ["src/pkg/api/a.py"]
    (tmp_path / "tags_index.yaml").write_text("core:\n  includes: ['core/']\n")
    assert [r.tag for r in load_tag_rules(tmp_path)] == ["core"]
    (tmp_path / "tags_index.yaml").write_text("tags: [unclosed\n")
    with pytest.raises(TagRulesError, match="not valid YAML"):
        load_tag_rules(tmp_path)


def test_codeowners_last_match_wins(tmp_path):
    write_files(tmp_path, {".github/CODEOWNERS": "# owners\n* @all\n/docs/ @docs-team\n"
                                                 "*.py @py @reviewers\n"})
    rules = load_codeowners(tmp_path)
    assert owners_of(rules, "docs/conf.py") == ["@py", "@reviewers"]
    assert owners_of(rules, "docs/index.md") == ["@docs-team"]
    assert owners_of(rules, "README.md") == ["@all"]
    assert owners_of(load_codeowners(tmp_path / "nowhere"), "a.py") == []
    assert json.dumps(owners_of(rules, "x.txt")) == '["@all"]'


def test_repo_tables_modules_priority():
    from codeintel_assets.extract import repo_tables
    from codeintel_assets.tools.git import RepoInfo

    info = RepoInfo("/r", "acme/w", "c" * 40, "main", False, None)
    mods = repo_tables.modules(info, ["pkg/__init__.py", "pkg/a.py", "pkg/a.pyi", "pkg/b.pyi",
                                      "pkg/c.py", "pkg/c/__init__.py"], {"pkg/a.py": ["x"]}, [])
    got = {r["module"]: (r["rel_path"], r["is_package"], r["tags"], r["name_status"])
           for r in mods.to_pylist()}
    # Every file keeps a row; the one Python imports keeps the plain name.
    assert got == {"pkg": ("pkg/__init__.py", True, "[]", "import"),
                   "pkg.a": ("pkg/a.py", False, '["x"]', "import"),
                   "pkg.a@pkg/a.pyi": ("pkg/a.pyi", False, "[]", "disambiguated"),
                   "pkg.b": ("pkg/b.pyi", False, "[]", "import"),
                   "pkg.c": ("pkg/c/__init__.py", True, "[]", "import"),
                   "pkg.c@pkg/c.py": ("pkg/c.py", False, "[]", "disambiguated")}


# ---- what the walk skips: symlinks, unreadable directories, special files --------------------


def _skipped(listing) -> list[tuple[str, str, str]]:
    return [(s.rel_path, s.kind, s.reason) for s in listing.skipped]


def test_walk_tree_lists_the_symlinks_and_special_files_it_skips(tmp_path):
    write_files(tmp_path, {"real/a.py": "", "README.md": ""})
    (tmp_path / "link").symlink_to(tmp_path / "real")                # a directory symlink
    (tmp_path / "b.py").symlink_to(tmp_path / "real" / "a.py")       # a file symlink
    (tmp_path / "gone.py").symlink_to(tmp_path / "nowhere.py")       # a broken one
    (tmp_path / "loop.py").symlink_to("loop.py")                     # a loop onto itself
    (tmp_path / "cycle").symlink_to(tmp_path)                        # a directory cycle
    (tmp_path / ".venv").symlink_to(tmp_path / "real")               # excluded, by pattern
    (tmp_path / "NOTES.md").symlink_to(tmp_path / "README.md")       # not a scanned name
    os.mkfifo(tmp_path / "pipe.py")                                  # would block a reader
    listing = walk_tree(tmp_path)
    assert listing.paths == ["real/a.py"] == list_files(tmp_path)
    assert _skipped(listing) == [
        (".venv/", "excluded", "matches an exclude pattern"),
        ("b.py", "symlink", "symlink (not followed)"),
        ("cycle/", "symlink", "symlink to a directory (not followed)"),
        ("gone.py", "symlink", "broken symlink (not followed)"),
        ("link/", "symlink", "symlink to a directory (not followed)"),
        ("loop.py", "symlink", "broken symlink (not followed)"),
        ("pipe.py", "unreadable", "not a regular file (FIFO)"),
    ]
    assert (listing.count("symlink"), listing.count("unreadable")) == (5, 1)


def test_scan_file_refuses_a_fifo_instead_of_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    outcome: list[BaseException] = []

    def scan() -> None:
        try:
            scan_file(FileJob("r", "", "pipe.py", str(tmp_path / "pipe.py")))
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    worker = threading.Thread(target=scan, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "scan_file blocked on a FIFO"
    assert isinstance(outcome[0], OSError) and "not a regular file" in str(outcome[0])


WALK_AS_NOBODY = """
import json, os, sys
from codeintel_assets.extract.scan import walk_tree  # before: nobody may not read the venv
os.setgid(65534); os.setuid(65534)  # nobody: file permissions apply again
listing = walk_tree(sys.argv[1])
print(json.dumps([listing.paths, [[s.rel_path, s.kind, s.reason] for s in listing.skipped]]))
"""


def test_walk_tree_lists_directories_it_cannot_read(tmp_path):
    """chmod 000 stops every user but root (CAP_DAC_READ_SEARCH reads anything); so the walk
    runs in a child that drops to `nobody` when the tests run as root."""
    root = Path(tempfile.mkdtemp(prefix="unreadable-", dir="/tmp"))  # tmp_path is root-only
    try:
        root.chmod(0o755)
        write_files(root, {"ok/a.py": "", "locked/secret.py": "", "locked/deeper/b.py": ""})
        for d in (root / "ok", root / "locked", root / "locked" / "deeper"):
            d.chmod(0o755)
        for f in root.rglob("*.py"):
            f.chmod(0o644)
        (root / "locked").chmod(0o000)
        if os.geteuid() == 0:
            assert walk_tree(root).paths == sorted(["ok/a.py", "locked/secret.py",
                                                    "locked/deeper/b.py"])  # root sees all
            out = subprocess.run([sys.executable, "-c", WALK_AS_NOBODY, str(root)],
                                 capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
            assert out.returncode == 0, out.stderr
            paths, skipped = json.loads(out.stdout)
        else:
            listing = walk_tree(root)
            paths, skipped = listing.paths, [[s.rel_path, s.kind, s.reason]
                                             for s in listing.skipped]
        assert paths == ["ok/a.py"]
        assert skipped == [["locked/", "unreadable", "PermissionError: Permission denied"]]
    finally:
        (root / "locked").chmod(0o755)
        shutil.rmtree(root)


def test_repo_scan_counts_and_lists_what_it_skipped(tmp_path):
    from codeintel_assets.run import materialize
    from codeintel_assets.storage.gateway import StorageGateway

    repo = make_git_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n"})
    (repo / "pkg" / "alias.py").symlink_to(repo / "pkg" / "a.py")
    (repo / "vendored").symlink_to(repo / "pkg")
    os.mkfifo(repo / "pkg" / "pipe.py")  # Git lists no FIFO: never scanned, nothing to report
    db = tmp_path / "ci.duckdb"
    result = materialize("core/file_state,core/repo_map", target=str(repo), db=str(db))
    assert result.success
    row = StorageGateway(db).query("SELECT file_count, symlinks_skipped, unreadable_paths "
                                   "FROM core.repo_map").to_pylist()
    assert row == [{"file_count": 2, "symlinks_skipped": 2, "unreadable_paths": 0}]
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key.path == ["core", "repo_map"]]
    metadata = event.materialization.metadata
    assert metadata["symlinks_skipped"].value == 2 and metadata["unreadable_paths"].value == 0
    assert metadata["skipped_paths"].value == [
        {"rel_path": "pkg/alias.py", "reason": "symlink (not followed)"},
        {"rel_path": "vendored/", "reason": "symlink to a directory (not followed)"},
    ]
    assert metadata["file_list"].value == "git ls-files"
