"""repo_scan pieces: file listing, classification, module names, tags and owners."""

from __future__ import annotations

import json

import pytest

from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.scan import classify, list_files, module_names, scan_file
from codeintel_assets.extract.tags import (
    DEFAULT_TAGS,
    TagRulesError,
    load_codeowners,
    load_tag_rules,
    owners_of,
)
from codeintel_assets_tests.conftest import write_files


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


def test_module_names():
    paths = [
        "src/pkg/__init__.py", "src/pkg/a.py", "src/nspkg/mod.py",
        "django/__init__.py", "django/db/__init__.py", "django/db/models.py",
        "tests/test_x.py", "tests/admin/__init__.py", "tests/admin/tests.py",
        "setup.py", "libs/lib/src/deep/x.py", "stubs/s.pyi",
        "pkg2/__init__.py", "pkg2/src/__init__.py", "pkg2/src/y.py",
    ]
    assert module_names(paths) == {
        "src/pkg/__init__.py": ("pkg", "src"),
        "src/pkg/a.py": ("pkg.a", "src"),
        "src/nspkg/mod.py": ("nspkg.mod", "src"),
        "django/__init__.py": ("django", ""),
        "django/db/__init__.py": ("django.db", ""),
        "django/db/models.py": ("django.db.models", ""),
        "tests/test_x.py": ("test_x", "tests"),
        "tests/admin/__init__.py": ("admin", "tests"),
        "tests/admin/tests.py": ("admin.tests", "tests"),
        "setup.py": ("setup", ""),
        "libs/lib/src/deep/x.py": ("deep.x", "libs/lib/src"),
        "stubs/s.pyi": ("s", "stubs"),
        "pkg2/__init__.py": ("pkg2", ""),
        "pkg2/src/__init__.py": ("pkg2.src", ""),  # a package named src is just a package
        "pkg2/src/y.py": ("pkg2.src.y", ""),
    }


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
    got = {r["module"]: (r["rel_path"], r["is_package"], r["tags"]) for r in mods.to_pylist()}
    assert got == {"pkg": ("pkg/__init__.py", True, "[]"), "pkg.a": ("pkg/a.py", False, '["x"]'),
                   "pkg.b": ("pkg/b.pyi", False, "[]"), "pkg.c": ("pkg/c/__init__.py", True, "[]")}
