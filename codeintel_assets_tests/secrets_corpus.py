"""A corpus of realistic credentials and of look-alikes that must stay visible.

Every value is fake but has the exact format of the real thing (lengths, prefixes, a JWT whose
parts decode), so that detectors which check formats fire on them. Each case is (keypath or
None for a string literal, value, expected text after masking); the expected text equals the
value for look-alikes.
"""

from __future__ import annotations

import base64
import json
from typing import NamedTuple


class Case(NamedTuple):
    key: str | None
    value: str
    expected: str

    @property
    def secret(self) -> bool:
        return self.expected != self.value


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = ".".join([_b64url({"alg": "HS256", "typ": "JWT"}),
                _b64url({"sub": "1234567890", "name": "Jane Doe", "iat": 1516239022}),
                "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"])
PEM_BODY = "\n".join(["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
                      "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK"])
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
SENTRY_KEY = "e3b0c44298fc1c149afbf4c8996fb924"
RANDOM_40 = "q7Zt2Lx9Vw4Kp8Rm3Ns6Bh1Jc5Df0Ga2Ey7Ui9Ho"

SECRETS: list[Case] = [
    # URL userinfo, whatever the key.
    Case("DATABASE_URL", "postgres://app:Xk9%23mP2v@db.internal:5432/orders",
         "postgres://app:***@db.internal:5432/orders"),
    Case("REDIS_URL", "redis://:s3cr3tpass@cache:6379/0", "redis://:***@cache:6379/0"),
    Case("celery.broker", "amqp://guest:guest@rabbit:5672//", "amqp://guest:***@rabbit:5672//"),
    Case("sentry.url", f"https://{SENTRY_KEY}@o450000.ingest.sentry.io/5500000",
         "https://***@o450000.ingest.sentry.io/5500000"),
    # Key names beyond password|secret|token|key.
    Case("DB_PASS", "hunter2", "***"),
    Case("PASSWD", "hunter2", "***"),
    Case("PWD", "correct-horse", "***"),
    Case("SENTRY_DSN", f"https://{SENTRY_KEY}@o450000.ingest.sentry.io/5500000", "***"),
    Case("AUTH", "Bearer abcDEF123456ghiJKL789", "***"),
    Case("CREDENTIALS", "admin:hunter2", "***"),
    Case("smtp.Passphrase", "open sesame", "***"),
    Case("aws.access_key_id", "AKIAIOSFODNN7EXAMPLE", "***"),
    # Authorization schemes inside a value.
    Case("docs.curl_example",
         "curl -H 'Authorization: Bearer abcDEF123456ghiJKL789' https://api.example.com",
         "curl -H 'Authorization: Bearer ***' https://api.example.com"),
    Case("proxy.header", "Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==",
         "Proxy-Authorization: Basic ***"),
    # Provider token formats under keys that say nothing.
    Case("deploy.aws_id", "AKIAZ3MSJV4WWNKWW5FG", "***"),
    Case("ci.github", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghp_***"),
    Case("ci.gitlab", "glpat-9sYzBq3xWv7LmN2kPd4R", "glpat-***"),
    Case("notify.slack", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-***"),
    Case("notify.webhook_url",
         "https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/aBcDeFgHiJkLmNoPqRsTuVwX",
         "https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/***"),
    Case("payments.stripe", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_***"),
    Case("mail.sendgrid",
         "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", "***"),
    Case("llm.openai", "sk-proj-AbCdEfGhIjKlMnOpQrStT3BlbkFJAbCdEfGhIjKlMnOpQrSt", "sk-***"),
    Case("sms.twilio", "SK0123456789abcdef0123456789abcdef", "***"),
    Case("chat.telegram", "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs", "***"),
    Case("registry.npmrc",
         "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
         "//registry.npmjs.org/:_authToken=npm_***"),
    Case("fixtures.sample_jwt", JWT, "***"),
    Case("tls.pem", PEM, "-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----"),
    # Keyword assignments inside connection strings.
    Case("db.conninfo", "host=db port=5432 user=app password=Tr0ub4dor dbname=orders",
         "host=db port=5432 user=app password=*** dbname=orders"),
    Case("db.odbc", "Server=tcp:x.database.windows.net;Uid=app;Pwd=Tr0ub4dor&3;Database=y",
         "Server=tcp:x.database.windows.net;Uid=app;Pwd=***;Database=y"),
    # Random values under keys that only sound secret-like.
    Case("SESSION_SIGNING", RANDOM_40, "***"),
    Case("webhooks.hmac", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
         "***"),
    # String literals (no key): the same detectors.
    Case(None, "postgres://app:Xk9pass@db/orders", "postgres://app:***@db/orders"),
    Case(None, "Bearer abcDEF123456ghiJKL789", "Bearer ***"),
    Case(None, "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghp_***"),
    Case(None, "dbname=orders user=app password=Tr0ub4dor", "dbname=orders user=app password=***"),
]

LOOK_ALIKES: list[Case] = [Case(k, v, v) for k, v in [
    # Hashes in lock files and pinned revisions.
    ("package.0.files.0.hash",
     "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    ("packages.left-pad.resolution.integrity",
     "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXGOKWL5FBcDlYgOYMvfI3LQ0Ln0g=="),
    ("repos.0.rev", "9a3301c3c3d8e1b5f1b2d6a0b6a2c4e5f7a8b9c0"),
    ("checksums.sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("image", "docker.io/library/python@sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa74"),
    # Identifiers and versions.
    ("project.id", "123e4567-e89b-12d3-a456-426614174000"),
    ("auth.client_id", "123e4567-e89b-12d3-a456-426614174000"),
    ("project.version", "1.2.3"),
    ("project.requires-python", ">=3.11,<3.14"),
    ("release.date", "2024.05.06"),
    ("project.keywords.0", "code-intelligence"),
    ("aws.role", "arn:aws:iam::123456789012:role/deploy"),
    # URLs without a password, or with a placeholder for one.
    ("project.urls.Homepage", "https://github.com/acme/widgets"),
    ("deps.widgets", "git+ssh://git@github.com/acme/widgets.git"),
    ("mirror", "https://user@example.com/simple/"),
    ("api.base", "http://localhost:8000/api/v1?token_type=bearer"),
    ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db/orders"),
    ("storage.bucket", "s3://acme-data/raw/2024/events.csv"),
    ("contact", "mailto:ops@example.com"),
    # Prose and settings that mention credentials.
    ("docs.note", "Basic authentication is required for every request"),
    ("docs.api", "Bearer tokens expire after an hour"),
    ("AUTH_BACKEND", "django.contrib.auth.backends.ModelBackend"),
    ("auth.user", "bob"),
    ("database.Credentials.user", "admin"),
    ("SESSION_ENGINE", "django.contrib.sessions.backends.db"),
    ("session.timeout", "3600"),
    ("db.template", "host={host} password={password}"),
    ("python", "/usr/local/bin/python3.11"),
    ("theme.color", "#1a2b3c4d"),
    (None, "Enter your password"),
    (None, "https://docs.python.org/3/library/secrets.html"),
    (None, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    (None, "123e4567-e89b-12d3-a456-426614174000"),
    (None, "password=%(password)s"),
]]

CORPUS: list[Case] = SECRETS + LOOK_ALIKES
