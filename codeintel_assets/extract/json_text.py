"""JSON text that DuckDB's JSON type accepts: `json.dumps`, with lone surrogates replaced.

A Python string can hold a lone surrogate (a literal `'\\udcff'` in the source, a path decoded
with surrogateescape). `json.dumps` writes it as a `\\udcff` escape, which DuckDB refuses when the
text is stored in a JSON column ("invalid high surrogate"), and that refusal fails the write of
the whole table. Every extractor that fills a JSON column encodes through `json_text`, so such a
string costs its lone surrogates (each becomes U+FFFD), never a table.
"""

from __future__ import annotations

import json
import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(value: object) -> str:
    """`json.dumps(value)`; when that text holds a surrogate escape, the same value with each
    lone surrogate in its strings (keys too) replaced by U+FFFD. A character outside the BMP is
    one code point in Python, written as a valid escape pair, and is kept."""
    text = json.dumps(value)
    return text if "\\ud" not in text else json.dumps(_scrub(value))


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value
