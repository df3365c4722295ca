"""LineIndex: tool columns (UTF-16, code points, UTF-8) to 0-based UTF-8 byte columns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeintel_assets.extract.lines import BOM, CHAR, UTF8, UTF16, UTF32, LineIndex

# Characters of every UTF-8 length and both UTF-16 lengths, and line breaks of all kinds.
ALPHABET = st.sampled_from(["a", " ", "_", "é", "ß", "€", "中", "😀", "𝔘", "\n", "\r", "\r\n"])
TEXT = st.lists(ALPHABET, max_size=40).map("".join)


def _in_unit(prefix: str, unit: str) -> int:
    """Reference length of `prefix` in `unit`, from the codecs."""
    if unit == UTF16:
        return len(prefix.encode("utf-16-le")) // 2
    if unit == UTF8:
        return len(prefix.encode("utf-8"))
    return len(prefix)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@given(TEXT, st.booleans(), st.sampled_from([UTF8, UTF16, UTF32]), st.data())
def test_byte_col_matches_the_codecs(text, bom, unit, data):
    index = LineIndex((BOM if bom else "") + text)
    lines = _lines(text)
    assert index.line_count == len(lines)
    number = data.draw(st.integers(1, len(lines)))
    line = lines[number - 1]
    assert index.line(number) == line
    counted = BOM if bom and number == 1 else ""  # the tool counts the BOM, ast does not
    cut = data.draw(st.integers(0, len(line)))
    col = _in_unit(counted + line[:cut], unit)
    assert index.byte_col(number, col, unit) == len(line[:cut].encode("utf-8"))
    # past the end of the line the excess is kept as bytes
    assert index.byte_col(number, _in_unit(counted + line, unit) + 3, unit) == \
        len(line.encode("utf-8")) + 3
    # a column inside a character maps to that character's start
    if cut < len(line) and _in_unit(line[cut], unit) > 1:
        assert index.byte_col(number, col + 1, unit) == len(line[:cut].encode("utf-8"))
    assert index.text(number, col, _in_unit(counted + line, unit), unit) == line[cut:]


def test_examples():
    index = LineIndex(BOM + "a = 1\nx = '😀'; b = a\r\nü\rlast")
    assert index.byte_col(1, 1, UTF16) == 0  # after the BOM: column 0 of the stored line
    assert index.byte_col(2, 10, UTF16) == 12  # `b`: the emoji is 2 UTF-16 units, 4 bytes
    assert index.byte_col(2, 9, CHAR) == 12 == index.byte_col(2, 12, UTF8)
    assert index.byte_col(2, 6, UTF16) == 5  # inside the surrogate pair: start of the emoji
    assert index.byte_col(3, 1, UTF32) == 2 and index.line(4) == "last"
    assert index.byte_col(9, 7, UTF16) == 7  # no such line: unchanged
    assert index.text(2, 4, 8, UTF16) == "'😀'"
    assert LineIndex.from_bytes(b"\xff\xc3\xa9x").byte_col(1, 2, UTF16) == 3  # escaped byte: 1


def test_unknown_unit():
    with pytest.raises(ValueError, match="unknown column unit"):
        LineIndex("é").byte_col(1, 0, "codepoint")
