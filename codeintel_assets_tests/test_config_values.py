"""Tests of codeintel_assets.extract.config_values against real files written to tmp_path."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from pathlib import Path

import pytest

from codeintel_assets.extract import config_values as cv
from codeintel_assets.extract.config_references import (
    attach_references,
    file_literals,
    key_names,
    literal_index,
    string_literals,
)
from codeintel_assets.extract.config_values import (
    CONFIG_GLOBS,
    config_format,
    extract_config_values,
)
from codeintel_assets.extract.parallel import FileJob, run_extractor
from codeintel_assets.storage.catalog import table
from codeintel_assets_tests.conftest import write_files

SPEC = table("analytics.config_values")


def _job(root: Path, rel_path: str, module: str | None = None) -> FileJob:
    return FileJob("acme/demo", "c" * 40, rel_path, str(root / rel_path), module)


def _write(root: Path, rel_path: str, content: str | bytes) -> FileJob:
    write_files(root, {rel_path: content})
    return _job(root, rel_path)


def _rows(job: FileJob) -> list[dict]:
    """Extract one file, checking the shape every row set must have."""
    out = extract_config_values(job)
    assert list(out) == ["analytics.config_values"]
    rows = out["analytics.config_values"]
    tbl = SPEC.from_rows(rows)  # converts against the catalog schema
    assert tbl.num_rows == len(rows)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)), "keys must be unique per file"
    for r in rows:
        assert set(r) == set(SPEC.column_names)
        assert (r["repo"], r["commit"], r["config_path"]) == ("acme/demo", "c" * 40, job.rel_path)
        assert r["format"] == config_format(job.rel_path)
        assert (r["reference_paths"], r["reference_modules"], r["reference_count"]) == ("[]", "[]", 0)
        assert r["value_preview"] is None or len(r["value_preview"]) <= 200
    return rows


def _by_key(rows: list[dict]) -> dict[str, tuple[str, str | None]]:
    return {r["key"]: (r["value_type"], r["value_preview"]) for r in rows}


# --------------------------------------------------------------------------------------------
# config_format / CONFIG_GLOBS


@pytest.mark.parametrize("rel_path, fmt", [
    ("pyproject.toml", "toml"),
    ("conf/app.yaml", "yaml"),
    (".github/workflows/ci.yml", "yaml"),
    ("package.json", "json"),
    ("tox.ini", "ini"),
    ("pytest.ini", "ini"),
    ("setup.cfg", "ini"),
    ("sub/setup.cfg", "ini"),
    ("mypy.cfg", "cfg"),
    (".env", "env"),
    ("deploy/.env.example", "env"),
    (".env.local", "env"),
    (".env.json", "json"),
    ("main.py", None),
    ("README.md", None),
    ("environment", None),
    ("x.env", None),
    ("Makefile", None),
])
def test_config_format(rel_path, fmt):
    assert config_format(rel_path) == fmt


@pytest.mark.parametrize("name", [
    "a.toml", "a.yaml", "a.yml", "a.json", "a.ini", "a.cfg", "setup.cfg", ".env", ".env.prod",
    "a.py", "a.txt", "env", "a.env", "a.TOML", ".envrc",
])
def test_globs_select_exactly_the_config_files(name):
    matched = any(fnmatch.fnmatchcase(name, g) for g in CONFIG_GLOBS)
    assert matched == (config_format(name) is not None)


# --------------------------------------------------------------------------------------------
# Formats


PYPROJECT = """\
[project]
name = "demo"
version = "1.0"
dependencies = ["requests>=2", "pyyaml"]

[project.optional-dependencies]
dev = ["pytest"]

[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F", "I"]
ignore = []

[tool.demo]
ratio = 0.5
enabled = false
released = 2024-01-02
stamp = 2024-01-02T03:04:05Z
empty = {}
api_key = "abc123"

[[tool.matrix]]
python = "3.11"

[[tool.matrix]]
python = "3.12"
extras = ["a", ["b", "c"]]
"""


def test_toml_nested_tables_and_arrays(tmp_path):
    rows = _rows(_write(tmp_path, "pyproject.toml", PYPROJECT))
    got = _by_key(rows)
    assert got == {
        "project.name": ("str", "demo"),
        "project.version": ("str", "1.0"),
        "project.dependencies.0": ("str", "requests>=2"),
        "project.dependencies.1": ("str", "pyyaml"),
        "project.optional-dependencies.dev.0": ("str", "pytest"),
        "tool.ruff.line-length": ("int", "100"),
        "tool.ruff.lint.select.0": ("str", "E"),
        "tool.ruff.lint.select.1": ("str", "F"),
        "tool.ruff.lint.select.2": ("str", "I"),
        "tool.ruff.lint.ignore": ("list", "[]"),
        "tool.demo.ratio": ("float", "0.5"),
        "tool.demo.enabled": ("bool", "false"),
        "tool.demo.released": ("str", "2024-01-02"),
        "tool.demo.stamp": ("str", "2024-01-02T03:04:05+00:00"),
        "tool.demo.empty": ("dict", "{}"),
        "tool.demo.api_key": ("str", "***"),
        "tool.matrix.0.python": ("str", "3.11"),
        "tool.matrix.1.python": ("str", "3.12"),
        "tool.matrix.1.extras.0": ("str", "a"),
        "tool.matrix.1.extras.1.0": ("str", "b"),
        "tool.matrix.1.extras.1.1": ("str", "c"),
    }
    # Rows come in document order.
    assert [r["key"] for r in rows][:3] == ["project.name", "project.version", "project.dependencies.0"]


APP_YAML = """\
service:
  name: api
  replicas: 3
  debug: true
  timeout: 2.5
  owner: null
  started: 2024-05-06
  hosts:
    - name: a
      ports: [80, 443]
    - name: b
      ports: []
database:
  host: db.local
  db_password: hunter2
  Credentials:
    SECRET_value: s3cr3t
    user: admin
2: two
true: yes-as-string
"""


def test_yaml_nested_lists_and_secret_masking(tmp_path):
    got = _by_key(_rows(_write(tmp_path, "conf/app.yaml", APP_YAML)))
    assert got == {
        "service.name": ("str", "api"),
        "service.replicas": ("int", "3"),
        "service.debug": ("bool", "true"),
        "service.timeout": ("float", "2.5"),
        "service.owner": ("null", None),
        "service.started": ("str", "2024-05-06"),
        "service.hosts.0.name": ("str", "a"),
        "service.hosts.0.ports.0": ("int", "80"),
        "service.hosts.0.ports.1": ("int", "443"),
        "service.hosts.1.name": ("str", "b"),
        "service.hosts.1.ports": ("list", "[]"),
        "database.host": ("str", "db.local"),
        "database.db_password": ("str", "***"),
        "database.Credentials.SECRET_value": ("str", "***"),
        "database.Credentials.user": ("str", "admin"),
        "2": ("str", "two"),  # non-string keys are str()'d
        "True": ("str", "yes-as-string"),
    }


def test_yaml_multi_document_prefixes_document_index(tmp_path):
    text = "a: 1\nb: [x]\n---\na: 2\n---\n---\n- solo\n"
    got = _by_key(_rows(_write(tmp_path, "multi.yml", text)))
    assert got == {
        "0.a": ("int", "1"),
        "0.b.0": ("str", "x"),
        "1.a": ("int", "2"),
        "2": ("null", None),
        "3.0": ("str", "solo"),
    }


def test_yaml_single_explicit_document_has_no_prefix(tmp_path):
    got = _by_key(_rows(_write(tmp_path, "one.yaml", "---\na: 1\n...\n")))
    assert got == {"a": ("int", "1")}


def test_yaml_recursive_alias_terminates(tmp_path):
    got = _by_key(_rows(_write(tmp_path, "loop.yaml", "a: &x [1, *x]\n")))
    assert got == {"a.0": ("int", "1"), "a.1": ("str", "<recursive reference>")}


def test_json_nested_empty_containers_and_caps(tmp_path):
    doc = {
        "name": "pkg",
        "scripts": {"build": "tsc", "test": "jest"},
        "files": ["dist", {"nested": [1, None]}],
        "private": True,
        "empty_list": [],
        "empty_obj": {},
        "long": "x" * 500,
        "accessToken": "t0k",
        "count": 12.0,
    }
    got = _by_key(_rows(_write(tmp_path, "package.json", json.dumps(doc))))
    assert got == {
        "name": ("str", "pkg"),
        "scripts.build": ("str", "tsc"),
        "scripts.test": ("str", "jest"),
        "files.0": ("str", "dist"),
        "files.1.nested.0": ("int", "1"),
        "files.1.nested.1": ("null", None),
        "private": ("bool", "true"),
        "empty_list": ("list", "[]"),
        "empty_obj": ("dict", "{}"),
        "long": ("str", "x" * 200),
        "accessToken": ("str", "***"),
        "count": ("float", "12.0"),
    }


def test_json_scalar_root_and_empty_root(tmp_path):
    assert _by_key(_rows(_write(tmp_path, "scalar.json", '"just text"'))) == {"": ("str", "just text")}
    assert _rows(_write(tmp_path, "empty.json", "{}")) == []
    assert _rows(_write(tmp_path, "empty.yaml", "# only a comment\n")) == []
    assert _rows(_write(tmp_path, "empty.toml", "")) == []


SETUP_CFG = """\
[metadata]
name = demo
version = attr: demo.__version__
description = 100%% %(name)s

[options]
install_requires =
    requests
    pyyaml
zip_safe

[flake8]
Max-Line-Length = 100
"""

TOX_INI = """\
[DEFAULT]
shared = yes

[tox]
envlist = py311, py312

[testenv]
commands = pytest {posargs}
passenv = API_KEY
"""


def test_ini_and_cfg(tmp_path):
    got = _by_key(_rows(_write(tmp_path, "setup.cfg", SETUP_CFG)))
    assert got == {
        "metadata.name": ("str", "demo"),
        "metadata.version": ("str", "attr: demo.__version__"),
        "metadata.description": ("str", "100%% %(name)s"),  # no interpolation
        "options.install_requires": ("str", "\nrequests\npyyaml"),
        "options.zip_safe": ("null", None),
        "flake8.Max-Line-Length": ("str", "100"),  # option names keep their case
    }
    rows = _rows(_write(tmp_path, "tox.ini", TOX_INI))
    assert {r["format"] for r in rows} == {"ini"}
    assert _by_key(rows) == {
        "DEFAULT.shared": ("str", "yes"),  # not copied into every section
        "tox.envlist": ("str", "py311, py312"),
        "testenv.commands": ("str", "pytest {posargs}"),
        "testenv.passenv": ("str", "API_KEY"),  # masking looks at the keypath, not the value
    }


def test_ini_masking_is_by_keypath(tmp_path):
    got = _by_key(_rows(_write(tmp_path, "conf/app.cfg", "[auth]\nkeyfile = /etc/k\nuser = bob\n")))
    assert got == {"auth.keyfile": ("str", "***"), "auth.user": ("str", "bob")}
    assert config_format("conf/app.cfg") == "cfg"


ENV = """\
# comment line

export API_TOKEN="x"
DEBUG=1
NAME='single quoted'
URL=http://example.com/#frag  # trailing comment
EMPTY=
  SPACED = padded value
FLAG
QUOTED_HASH="a # b" # c
"""


def test_env(tmp_path):
    got = _by_key(_rows(_write(tmp_path, ".env", ENV)))
    assert got == {
        "API_TOKEN": ("str", "***"),
        "DEBUG": ("str", "1"),
        "NAME": ("str", "single quoted"),
        "URL": ("str", "http://example.com/#frag"),
        "EMPTY": ("str", ""),
        "SPACED": ("str", "padded value"),
        "FLAG": ("null", None),
        "QUOTED_HASH": ("str", "a # b"),
    }
    rows = _rows(_write(tmp_path, "deploy/.env.example", "DEBUG=0\n"))
    assert [(r["format"], r["key"], r["value_preview"]) for r in rows] == [("env", "DEBUG", "0")]


# --------------------------------------------------------------------------------------------
# Bad input is data


def _single_error(rows: list[dict], value_type: str = "parse_error") -> str:
    assert len(rows) == 1
    (row,) = rows
    assert row["key"] == "" and row["value_type"] == value_type
    assert row["value_preview"]
    return row["value_preview"]


def test_broken_files_give_one_parse_error_row_and_spare_the_others(tmp_path):
    jobs = [
        _write(tmp_path, "good.json", '{"a": 1}'),
        _write(tmp_path, "broken.yaml", "a: [1, 2\nb: db_password: hunter2\n"),
        _write(tmp_path, "broken.json", '{"a": 1,, "password": "hunter2"}'),
        _write(tmp_path, "good.yaml", "b: 2\n"),
        _write(tmp_path, "broken.toml", 'x = "unterminated\n'),
    ]
    results = {job.rel_path: _rows(job) for job in jobs}
    assert _by_key(results["good.json"]) == {"a": ("int", "1")}
    assert _by_key(results["good.yaml"]) == {"b": ("int", "2")}
    for rel in ("broken.yaml", "broken.json", "broken.toml"):
        message = _single_error(results[rel])
        assert "hunter2" not in message  # error messages never quote file content
    assert _single_error(results["broken.json"]).startswith("JSONDecodeError: ")
    assert "line" in _single_error(results["broken.yaml"])

    # The same through the parallel runner: no FileError, every file has its rows.
    result = run_extractor(extract_config_values, jobs,
                           {"analytics.config_values": SPEC.arrow_schema}, workers=1)
    assert result.errors == []
    out = result.tables["analytics.config_values"].to_pylist()
    assert sorted((r["config_path"], r["key"], r["value_type"]) for r in out) == [
        ("broken.json", "", "parse_error"),
        ("broken.toml", "", "parse_error"),
        ("broken.yaml", "", "parse_error"),
        ("good.json", "a", "int"),
        ("good.yaml", "b", "int"),
    ]


def test_broken_ini_error_does_not_quote_content(tmp_path):
    message = _single_error(_rows(_write(tmp_path, "bad.ini", "password = hunter2\n")))
    assert message.startswith("MissingSectionHeaderError") and "hunter2" not in message
    message = _single_error(_rows(_write(tmp_path, "bad2.cfg", "[s]\na = 1\n= hunter2\n")))
    assert message == "ParsingError: unparsable lines 3"


def test_non_utf8_file(tmp_path):
    rows = _rows(_write(tmp_path, "latin.yaml", "name: caf\xe9\n".encode("latin-1")))
    assert _single_error(rows).startswith("UnicodeDecodeError: ")


def test_utf8_bom_is_accepted(tmp_path):
    rows = _rows(_write(tmp_path, "bom.json", b'\xef\xbb\xbf{"a": "\xc3\xa9"}'))
    assert _by_key(rows) == {"a": ("str", "\u00e9")}


def test_too_large(tmp_path):
    # A file over the scan's limit that the scan saw within it (it grew since): too_large too.
    job = _write(tmp_path, "big.json", '{"a": "' + "x" * 50 + '"}')
    (row,) = extract_config_values(job, max_file_bytes=10)["analytics.config_values"]
    assert (row["key"], row["value_type"]) == ("", "too_large")
    assert row["value_preview"] == "59 bytes exceeds the limit of 10"
    assert _by_key(_rows(job)) == {"a": ("str", "x" * 50)}  # within the default limit


@pytest.mark.parametrize("status", ["too_large", "binary"])
def test_the_scans_verdict_decides_and_the_file_is_not_parsed(tmp_path, status):
    _write(tmp_path, "app.json", '{"a": 1}')
    job = dataclasses.replace(_job(tmp_path, "app.json"), scan_status=status,
                              scan_error="the scan's message")
    assert _single_error(_rows(job), status) == "the scan's message"
    # Not even read: the scan's verdict stands for the file.
    (tmp_path / "app.json").unlink()
    assert _single_error(_rows(job), status) == "the scan's message"


def test_key_cap_truncates_with_a_count(tmp_path, monkeypatch):
    monkeypatch.setattr(cv, "MAX_KEYS_PER_FILE", 3)
    rows = _rows(_write(tmp_path, "many.json", json.dumps({f"k{i}": i for i in range(10)})))
    assert [r["key"] for r in rows] == ["k0", "k1", "k2", ""]
    assert rows[-1]["value_type"] == "truncated"
    assert rows[-1]["value_preview"] == "7 keys dropped beyond the limit of 3"


def test_keys_are_unique_last_value_wins(tmp_path, monkeypatch):
    # YAML: a dotted key and a nested path flatten to the same keypath; YAML keys 1 and "1" too.
    got = _by_key(_rows(_write(tmp_path, "dup.yaml", 'a.b: first\na:\n  b: second\n1: x\n"1": y\n')))
    assert got == {"a.b": ("str", "second"), "1": ("str", "y")}
    # YAML repeated key: PyYAML itself keeps the last.
    assert _by_key(_rows(_write(tmp_path, "rep.yaml", "k: 1\nk: 2\n"))) == {"k": ("int", "2")}
    # YAML keys 1 and true are one Python dict key (True == 1): the first key, the last value.
    assert _by_key(_rows(_write(tmp_path, "bool.yaml", "1: a\ntrue: b\n"))) == {"1": ("str", "b")}
    # INI: repeated option and repeated section; a dotted section name colliding with an option.
    ini = "[s]\nk = 1\n[s]\nk = 2\n[a.b]\nc = 1\n[a]\nb.c = 2\n"
    assert _by_key(_rows(_write(tmp_path, "dup.ini", ini))) == {"s.k": ("str", "2"), "a.b.c": ("str", "2")}
    # env: repeated variable.
    assert _by_key(_rows(_write(tmp_path, ".env", "A=1\nA=2\n"))) == {"A": ("str", "2")}
    # A duplicate keypath does not count against the key cap.
    monkeypatch.setattr(cv, "MAX_KEYS_PER_FILE", 2)
    got = _by_key(_rows(_write(tmp_path, "cap.yaml", "a.b: 1\nc: 2\na:\n  b: 3\n")))
    assert got == {"a.b": ("int", "3"), "c": ("int", "2")}


def test_not_a_config_file_raises(tmp_path):
    with pytest.raises(ValueError):
        extract_config_values(_write(tmp_path, "main.py", "x = 1\n"))


# --------------------------------------------------------------------------------------------
# Literals and references


def test_file_literals():
    source = (
        '"""Module docstring."""\n'
        'import os\n'
        'HOST = os.environ.get("database.host", "x")\n'
        'PORT = cfg["port"]\n'
        'again = "port"\n'
        'blank = "   "\n'
        'num = 5\n'
        'raw = b"bytes"\n'
        f'long = "{"y" * 201}"\n'
    )
    assert file_literals(source) == {"Module docstring.", "database.host", "port"}
    assert file_literals("def broken(:\n") == set()


def test_string_literals(tmp_path):
    job = _write(tmp_path, "src/pkg/a.py", 'X = ["select", "select", "host"]\n')
    job = _job(tmp_path, job.rel_path, "pkg.a")
    ident = {"repo": job.repo, "commit": job.commit, "rel_path": "src/pkg/a.py", "module": "pkg.a"}
    assert string_literals(job) == {"core.string_literals": [
        {**ident, "literal": "host"}, {**ident, "literal": "select"},
    ]}
    bad = _write(tmp_path, "bad.py", b"x = '\xff'\n")
    assert string_literals(bad) == {"core.string_literals": []}


def test_key_names():
    assert key_names("database.host") == {"database.host", "host"}
    assert key_names("tool.ruff.lint.select.0") == {"tool.ruff.lint.select.0", "select"}
    assert key_names("DEBUG") == {"DEBUG"}
    assert key_names("0.1") == {"0.1"}
    assert key_names("") == set()


def test_attach_references(tmp_path):
    config_jobs = [
        _write(tmp_path, "conf/app.yaml", "database:\n  host: db\n  port: 5432\n  name: main\n"),
        _write(tmp_path, "pyproject.toml", '[tool.ruff.lint]\nselect = ["E", "F"]\n'),
        _write(tmp_path, "broken.json", "{"),
    ]
    rows = [r for job in config_jobs for r in _rows(job)]
    config = SPEC.from_rows(rows)

    py = {
        "src/pkg/db.py": ("pkg.db", 'HOST = cfg["database.host"]\nPORT = cfg["port"]\n'),
        "scripts/lint.py": (None, 'rules = conf["select"] + conf["port"]\nhost = "host"\n'),
        "src/pkg/db.pyi": ("pkg.db", 'def port(key: str = "port") -> int: ...\n'),
    }
    literal_rows = []
    for rel, (module, source) in py.items():
        _write(tmp_path, rel, source)
        literal_rows += string_literals(_job(tmp_path, rel, module))["core.string_literals"]
    index = literal_index(literal_rows)
    assert index["port"] == {("src/pkg/db.py", "pkg.db"), ("scripts/lint.py", None),
                             ("src/pkg/db.pyi", "pkg.db")}

    out = attach_references(config, index)
    assert out.schema == SPEC.arrow_schema
    assert out.num_rows == config.num_rows
    refs = {
        (r["config_path"], r["key"]): (json.loads(r["reference_paths"]),
                                       json.loads(r["reference_modules"]), r["reference_count"])
        for r in out.to_pylist()
    }
    assert refs == {
        ("conf/app.yaml", "database.host"): (["scripts/lint.py", "src/pkg/db.py"], ["pkg.db"], 2),
        ("conf/app.yaml", "database.port"): (
            ["scripts/lint.py", "src/pkg/db.py", "src/pkg/db.pyi"], ["pkg.db"], 2),
        ("conf/app.yaml", "database.name"): ([], [], 0),
        ("pyproject.toml", "tool.ruff.lint.select.0"): (["scripts/lint.py"], [], 1),
        ("pyproject.toml", "tool.ruff.lint.select.1"): (["scripts/lint.py"], [], 1),
        ("broken.json", ""): ([], [], 0),
    }
    # Other columns are untouched, and attaching again replaces rather than accumulates.
    assert out.drop_columns(["reference_paths", "reference_modules", "reference_count"]).equals(
        config.drop_columns(["reference_paths", "reference_modules", "reference_count"]))
    assert attach_references(out, index).equals(out)
    assert attach_references(out, {}).equals(config)
