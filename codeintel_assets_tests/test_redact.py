"""Credential masking (extract.redact) on a corpus of realistic secrets and look-alikes, both
directly and through the config and string-literal extractors on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeintel_assets.extract.config_references import string_literals
from codeintel_assets.extract.config_values import PREVIEW_CHARS, extract_config_values
from codeintel_assets.extract.parallel import FileJob
from codeintel_assets.extract.redact import MASK, redact, secret_key
from codeintel_assets_tests.conftest import write_files
from codeintel_assets_tests.secrets_corpus import CORPUS, LOOK_ALIKES, PEM, SECRETS, Case


def _id(case: Case) -> str:
    return f"{case.key or '<literal>'}={case.value[:24]}"


@pytest.mark.parametrize("case", CORPUS, ids=_id)
def test_corpus(case):
    got = redact(case.value, case.key)
    assert got.text == case.expected
    assert got.masked == case.secret
    if case.secret:
        assert MASK in got.text


def test_corpus_has_both_sides():
    assert len(SECRETS) >= 30 and len(LOOK_ALIKES) >= 30
    assert all(c.secret for c in SECRETS) and not any(c.secret for c in LOOK_ALIKES)


@pytest.mark.parametrize("key, expected", [
    ("database.db_password", True), ("API_TOKEN", True), ("DB_PASS", True), ("PASSWD", True),
    ("PWD", True), ("SENTRY_DSN", True), ("CREDENTIALS", True), ("AUTH", True),
    ("http.BasicAuth", True), ("gcp.credentialsJson", True), ("api_key", True),
    ("auth.user", False), ("database.Credentials.user", False), ("AUTH_BACKEND", False),
    ("project.keywords.0", False), ("database.host", False), ("passenger_count", False),
])
def test_secret_key(key, expected):
    assert secret_key(key) is expected


def _job(root: Path, rel_path: str) -> FileJob:
    return FileJob("acme/demo", "c" * 40, rel_path, str(root / rel_path), None)


def _nested(key: str, value: str) -> dict:
    out: dict = value  # type: ignore[assignment]
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def test_config_values_mask_the_corpus(tmp_path):
    """Every keyed case written as a JSON config file comes out of extract_config_values with
    the expected preview (capped like every preview)."""
    for i, case in enumerate(c for c in CORPUS if c.key is not None):
        rel = f"conf/c{i}.json"
        write_files(tmp_path, {rel: json.dumps(_nested(case.key, case.value))})
        (row,) = extract_config_values(_job(tmp_path, rel))["analytics.config_values"]
        assert (row["key"], row["value_preview"]) == (case.key, case.expected[:PREVIEW_CHARS])


def test_env_file_from_the_issue(tmp_path):
    env = ("DATABASE_URL=postgres://user:pw@host/db\nREDIS_URL=redis://:pw@host\n"
           "DB_PASS=x1\nPASSWD=x2\nPWD=x3\nSENTRY_DSN=https://abc@o1.ingest.sentry.io/1\n"
           "AUTH=Bearer abc.def.ghi\nCREDENTIALS=admin:admin\nDEBUG=1\n"
           "HOMEPAGE=https://example.com/docs\n")
    write_files(tmp_path, {".env": env})
    rows = extract_config_values(_job(tmp_path, ".env"))["analytics.config_values"]
    assert {r["key"]: r["value_preview"] for r in rows} == {
        "DATABASE_URL": "postgres://user:***@host/db", "REDIS_URL": "redis://:***@host",
        "DB_PASS": "***", "PASSWD": "***", "PWD": "***", "SENTRY_DSN": "***", "AUTH": "***",
        "CREDENTIALS": "***", "DEBUG": "1", "HOMEPAGE": "https://example.com/docs",
    }


def test_a_private_key_longer_than_the_preview_is_masked_before_the_cut(tmp_path):
    body = "\n".join(["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"] * 40)
    pem = PEM.replace(PEM.split("\n")[1], body)
    write_files(tmp_path, {"tls.yaml": json.dumps({"tls": {"pem": pem}})})
    (row,) = extract_config_values(_job(tmp_path, "tls.yaml"))["analytics.config_values"]
    assert row["value_preview"] == \
        "-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----"


def test_string_literals_are_masked_and_stay_unique(tmp_path):
    literal_cases = [c for c in CORPUS if c.key is None]
    source = "".join(f"V{i} = {c.value!r}\n" for i, c in enumerate(literal_cases))
    # Two URLs differing only in the password mask to one literal: one row, not two.
    source += "A = 'postgres://app:one1@db/x'\nB = 'postgres://app:two2@db/x'\n"
    write_files(tmp_path, {"pkg/settings.py": source})
    rows = string_literals(_job(tmp_path, "pkg/settings.py"))["core.string_literals"]
    literals = [r["literal"] for r in rows]
    assert len(literals) == len(set(literals))
    assert set(literals) == {c.expected for c in literal_cases} | {"postgres://app:***@db/x"}


def test_no_secret_survives_in_any_stored_text(tmp_path):
    """The raw secret parts of the corpus appear in no preview (a cheap leak check)."""
    leaks = ["Xk9%23mP2v", "s3cr3tpass", "hunter2", "A1b2C3d4E5f6", "4eC39HqLyjWD",
             "Tr0ub4dor", "AbCdEfGhIjKlMnOpQrStUvWx", "u1SU1LfVLPHC"]
    texts = [redact(c.value, c.key).text for c in SECRETS]
    assert not [(leak, t) for leak in leaks for t in texts if leak in t]
