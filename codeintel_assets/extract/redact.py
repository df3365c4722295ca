"""Mask credentials in values before they are stored or shown (config values, string literals).

Two rules decide, and both keep the value's shape where it has one, so a masked row stays
useful (`postgres://user:***@host/db`, `Authorization: Bearer ***`, `ghp_***`):

- By key name (config values only): a keypath naming a secret (the historical
  `password|secret|token|key` anywhere in the path, detect-secrets' keyword denylist
  (`db_pass`, `passwd`, `pwd`, `private_key`, ...), and a leaf named like a credential
  (`DSN`, `CREDENTIALS`, `AUTH`, `PASS`, `PASSPHRASE`, ...)) masks the whole value to `***`.
  A leaf that only sounds secret-like (`signing`, `session`, `cookie`, `hmac`, `api`, ...)
  masks its value when detect-secrets' entropy plugins call it random (base64 above 4.5 bits,
  hex above 3.0 bits per character, UUIDs and sequences excepted).
- By value (every value, whatever the key): detect-secrets' regex plugins (AWS, GitHub,
  GitLab, Slack, Stripe, npm, PyPI, OpenAI, SendGrid, Twilio, JWT, private key blocks, basic
  auth URLs and more) and its keyword plugin (`password=...` inside a connection string);
  plus what detect-secrets has no plugin for: the password of any URL userinfo
  (`redis://:pw@host`), a random-looking URL user (a Sentry DSN's key) and the credential
  of an HTTP authorization scheme (`Bearer ...`, `Basic ...`).

Pure functions without Dagster, so parser worker processes import them cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters.heuristic import (
    is_indirect_reference,
    is_potential_uuid,
    is_sequential_string,
    is_templated_secret,
)
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)
from detect_secrets.plugins.ip_public import IPPublicDetector
from detect_secrets.plugins.keyword import (
    CONFIG_DENYLIST_REGEX_TO_GROUP,
    KeywordDetector,
)
from detect_secrets.plugins.keyword import (
    DENYLIST as KEYWORD_DENYLIST,
)
from detect_secrets.plugins.private_key import PrivateKeyDetector

MASK = "***"

# The key-name rule: the historical terms, anywhere in the keypath, plus detect-secrets'
# keyword denylist (the names its KeywordDetector treats as secret assignments).
SECRET_KEY_RE = re.compile("|".join(("password", "secret", "token", "key", *KEYWORD_DENYLIST)),
                           re.IGNORECASE)
_KEYWORDS_RE = re.compile("keywords?", re.IGNORECASE)
# Words that name a credential only as the leaf (the last keypath segment), so that a
# section named `auth` or `Credentials` does not hide its `user` or `backend` entries.
_SECRET_LEAF_WORDS = frozenset({
    "pass", "pw", "dsn", "credential", "credentials", "creds", "passphrase",
})
# ... and these only as the leaf's last word (`BASIC_AUTH`, not `AUTH_BACKEND`).
_SECRET_LAST_WORDS = frozenset({"auth", "authorization"})
# Leaf words that make a value a secret only when it also looks random.
_SECRET_LIKE_WORDS = frozenset({
    "api", "access", "private", "signing", "signature", "sig", "salt", "hmac", "session",
    "cookie", "webhook", "cert", "client", "bearer", "license", "encryption", "crypt",
    "seed", "nonce", "otp", "mfa", "totp", "sas", "connection", "conn",
})
_WORD_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

# What detect-secrets lacks. URL userinfo: `scheme://user:password@`, the user optional
# (`redis://:pw@host`); authorization headers: a scheme name and its credential.
_URL_USERINFO_RE = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^\s:/?#@\[\]]*)"
    r"(?::(?P<password>[^\s/?#@\[\]]*))?@")
_AUTH_SCHEME_RE = re.compile(
    r"\b(?P<scheme>Bearer|Basic|Token|Digest|Bot|ApiKey)\s+(?P<cred>[A-Za-z0-9\-._~+/]{8,}=*)")
_PEM_BLOCK_RE = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)(?P<body>.*?)"
    r"(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)", re.DOTALL)
# A provider token keeps its well-known prefix (`ghp_`, `xoxb-`, `sk_live_`, `glpat-`).
_TOKEN_PREFIX_RE = re.compile(r"[A-Za-z]{2,8}[_\-](?:(?:live|test)_)?")
# Shorter text cannot hold any credential format the detectors know (the shortest, a URL with
# a password, is `a://b:c@d`); skipping it keeps literal extraction fast.
_MIN_CHARS = 8


@dataclass(frozen=True)
class Redaction:
    """A value after masking. `text`: the masked value (the input when nothing was found);
    `kinds`: what was found, e.g. ('key name',), ('url password', 'GitHub Token'); empty when
    the value is shown as it is."""

    text: str
    kinds: tuple[str, ...] = ()

    @property
    def masked(self) -> bool:
        return bool(self.kinds)


def secret_key(key: str) -> bool:
    """True when the keypath names a secret, so its whole value is masked.

    `database.db_password`, `API_TOKEN`, `SENTRY_DSN`, `DB_PASS`, `PWD`, `AUTH`,
    `GOOGLE_CREDENTIALS` are; `auth.user`, `Credentials.user` and `AUTH_BACKEND` are not.
    """
    # `keywords` (pyproject's project.keywords) holds search terms, not keys.
    if SECRET_KEY_RE.search(_KEYWORDS_RE.sub("", key)):
        return True
    return bool(_leaf_words(key) & _SECRET_LEAF_WORDS) or _last_word(key) in _SECRET_LAST_WORDS


def _leaf_words(key: str) -> set[str]:
    leaf = key.rsplit(".", 1)[-1]
    return {w.lower() for w in _WORD_RE.findall(leaf)}


def _last_word(key: str) -> str:
    words = _WORD_RE.findall(key.rsplit(".", 1)[-1])
    return words[-1].lower() if words else ""


def secret_like_key(key: str) -> bool:
    """True when the leaf sounds secret-like without naming a secret (`SESSION_SIGNING`,
    `auth.hmac`): its value is masked only when it looks random (see `looks_random`)."""
    return bool(_leaf_words(key) & (_SECRET_LIKE_WORDS | _SECRET_LAST_WORDS))


@lru_cache(maxsize=1)
def _entropy_plugins() -> tuple[Base64HighEntropyString, HexHighEntropyString]:
    return Base64HighEntropyString(), HexHighEntropyString()


def looks_random(value: str) -> bool:
    """True when detect-secrets' entropy plugins would report `value` as a whole: only base64
    (or hex) characters, Shannon entropy above the plugin's limit, and not a UUID or a
    sequential string."""
    if len(value) < _MIN_CHARS or is_potential_uuid(value) or is_sequential_string(value):
        return False
    for plugin in _entropy_plugins():
        if set(value) <= set(plugin.charset) \
                and plugin.calculate_shannon_entropy(value) > plugin.entropy_limit:
            return True
    return False


@dataclass(frozen=True)
class _Detectors:
    """detect-secrets' regex plugins (all but the public-IP one: an address is no secret) as
    (plugin, pattern) pairs, and one alternation of every pattern, so that the common case (a
    value with nothing in it) costs one search instead of one per pattern."""

    patterns: tuple[tuple[RegexBasedDetector, re.Pattern], ...]
    any_pattern: re.Pattern
    any_keyword: re.Pattern


@lru_cache(maxsize=1)
def _detectors() -> _Detectors:
    plugins = [cls() for cls in get_mapping_from_secret_type_to_class().values()
               if issubclass(cls, RegexBasedDetector)
               and cls not in (IPPublicDetector, PrivateKeyDetector)]
    patterns = tuple((p, regex) for p in plugins for regex in p.denylist)

    def scoped(regex: re.Pattern) -> str:
        # Group names and numbers stay local to each pattern: wrap, and keep its flags.
        flags = "i" if regex.flags & re.IGNORECASE else ""
        return f"(?{flags}:{regex.pattern})" if flags else f"(?:{regex.pattern})"

    return _Detectors(
        patterns,
        re.compile("|".join(scoped(r) for _, r in patterns)),
        re.compile("|".join(KEYWORD_DENYLIST), re.IGNORECASE))


def redact(value: str, key: str | None = None) -> Redaction:
    """`value` with credentials masked; `key` is the config keypath (None for a literal).

    A secret key name masks the whole value (`***`); otherwise each credential found in the
    value is replaced in place. Never raises for any str input.
    """
    if key is not None and secret_key(key):
        return Redaction(MASK, ("key name",))
    if key is not None and secret_like_key(key) and looks_random(value):
        return Redaction(MASK, ("random value under a secret-like key",))
    if len(value) < _MIN_CHARS:
        return Redaction(value)
    kinds: list[str] = []
    text = _mask_private_keys(value, kinds)
    text = _URL_USERINFO_RE.sub(lambda m: _mask_userinfo(m, kinds), text)
    text = _AUTH_SCHEME_RE.sub(lambda m: _mask_auth(m, kinds), text)
    text = _mask_detected(text, kinds)
    text = _mask_keywords(text, kinds)
    return Redaction(text, tuple(dict.fromkeys(kinds)))


def _mask_private_keys(text: str, kinds: list[str]) -> str:
    """Keep a PEM block's frame and mask its body; a PuTTY key file is masked whole. The bare
    marker (`BEGIN RSA PRIVATE KEY` in a detector's own source) is a name, not a key."""
    if not any(True for _ in PrivateKeyDetector().analyze_string(text)):
        return text
    masked = _PEM_BLOCK_RE.sub(lambda m: f"{m['begin']}\n{MASK}\n{m['end']}".rstrip("\n"), text)
    if masked == text and "Private-Lines:" in text:
        masked = MASK
    if masked != text:
        kinds.append(PrivateKeyDetector.secret_type)
    return masked


def _has_digit(text: str) -> bool:
    """Generated credentials carry digits; a token without any is a word or an identifier
    (`APActivationPayload` fits Artifactory's password pattern)."""
    return any(c.isdigit() for c in text)


def _mask_userinfo(match: re.Match, kinds: list[str]) -> str:
    scheme, user, password = match["scheme"], match["user"], match["password"]
    if password and (is_templated_secret(password) or password.startswith("$")):
        return match.group(0)  # a placeholder filled in at deploy time, e.g. ${DB_PASSWORD}
    if password:
        kinds.append("url password")
        user = MASK if looks_random(user) else user
        return f"{scheme}{user}:{MASK}@"
    if looks_random(user):  # a key as the user: a Sentry DSN, a token-in-URL
        kinds.append("url credential")
        return f"{scheme}{MASK}@"
    return match.group(0)


def _mask_auth(match: re.Match, kinds: list[str]) -> str:
    cred = match["cred"]
    # Prose ("Basic authentication", "Token definitions.") has no digits: leave it.
    if not _has_digit(cred) or MASK in cred:
        return match.group(0)
    kinds.append(f"{match['scheme']} credential")
    return f"{match['scheme']} {MASK}"


def _mask_detected(text: str, kinds: list[str]) -> str:
    """Mask what detect-secrets' regex plugins find. Their patterns are used for positions
    (the plugins' own `analyze_string` returns group texts only) and each match is confirmed
    by the plugin (the JWT plugin checks the token decodes). Where a pattern captures the
    secret in a group of 8+ characters (a basic-auth password, an AWS secret key after its
    name) only that group is masked; otherwise the whole token is."""
    detectors = _detectors()
    if not detectors.any_pattern.search(text):
        return text
    for plugin, regex in detectors.patterns:
        spans = []
        for match in regex.finditer(text):
            if MASK in match.group(0) or not any(plugin.analyze_string(match.group(0))) \
                    or not _has_digit(match.group(0)) \
                    or any(g and is_templated_secret(g) for g in match.groups()):
                continue
            groups = [i for i in range(1, regex.groups + 1)
                      if match.group(i) and len(match.group(i)) >= 8]
            start, end = match.span(groups[-1] if groups else 0)
            if not groups:  # a lazy pattern (the JWT's) stops inside the token: finish it
                end = _TOKEN_TAIL_RE.match(text, end).end()
            while start < end and text[start] in _DELIMITERS:
                start += 1
            while end > start and text[end - 1] in _DELIMITERS:
                end -= 1
            spans.append((start, end))
        for start, end in reversed(spans):
            text = text[:start] + _mask_token(text[start:end]) + text[end:]
        if spans:
            kinds.append(plugin.secret_type)
    return text


_TOKEN_TAIL_RE = re.compile(r"[A-Za-z0-9_\-+/=]*")
_NEXT_ASSIGNMENT_RE = re.compile(r"[\s;,&]+[A-Za-z_][\w.\-]*\s*=")
# Characters some plugin patterns match around a token (Artifactory's `(?:\s|=|:|"|^)`).
_DELIMITERS = frozenset(" \t\r\n=:\"'")


def _mask_token(token: str) -> str:
    """`***` keeping the parts that are no secret: a provider prefix (`ghp_***`), or a URL up
    to its last path segment (a Slack webhook's workspace and channel ids)."""
    if "://" in token and token.rfind("/") > token.find("://") + 2:
        return token[:token.rfind("/") + 1] + MASK
    prefix = _TOKEN_PREFIX_RE.match(token)
    return (prefix.group(0) if prefix and prefix.end() < len(token) else "") + MASK


def _mask_keywords(text: str, kinds: list[str]) -> str:
    """Mask `password=...`-style assignments inside a value with the regexes detect-secrets'
    keyword plugin applies to config files, skipping its templated and `$VAR` look-alikes."""
    def mask(match: re.Match, group: int) -> str:
        secret = match.group(group)
        start, end = match.start(group) - match.start(), match.end(group) - match.start()
        # The plugin's secret runs to the end of the line; in a connection string
        # (`password=pw dbname=x`, `Pwd=pw;Server=x`) the next assignment ends it.
        following = _NEXT_ASSIGNMENT_RE.search(secret)
        if following:
            secret, end = secret[:following.start()], start + following.start()
        # What detect-secrets' filters drop (templates, `$VAR`, `%(name)s`, a call), and
        # what reads as prose or a field name (`:param password: Defaults to True.`,
        # `passwd:shell`): words, not credentials.
        if not secret or MASK in secret or is_templated_secret(secret) \
                or secret.startswith(("$", "%")) or is_indirect_reference(match.group(0)) \
                or any(c.isspace() for c in secret.strip()) \
                or (secret.isalpha() and len(secret) < 8):
            return match.group(0)
        kinds.append(KeywordDetector.secret_type)
        return match.group(0)[:start] + MASK + match.group(0)[end:]

    if not _detectors().any_keyword.search(text):
        return text
    for regex, group in CONFIG_DENYLIST_REGEX_TO_GROUP.items():
        text = regex.sub(lambda m, g=group: mask(m, g), text)
    return text
