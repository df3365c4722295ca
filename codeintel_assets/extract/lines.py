"""One file's lines, and tool columns converted to the project's column convention.

The warehouse stores columns as 0-based UTF-8 byte offsets from the start of the line, with a
byte-order mark not counted (as ast's `col_offset`). The tools count otherwise:

- pyright (LSP positions) and scip-python (JavaScript string offsets): UTF-16 code units
  (`UTF16`); SCIP documents may also declare UTF-8 or UTF-32 offsets;
- pyrefly, ruff and LibCST: Unicode code points, i.e. Python `str` indices (`UTF32`, alias
  `CHAR`);

so every column of a non-ASCII line goes through `LineIndex.byte_col`. pyright and scip-python
also count a UTF-8 BOM as the first character of line 1 (ruff, pyrefly and LibCST do not): their
LineIndex is built from the text with the BOM kept. Pure: no I/O, no dagster import.
"""

from __future__ import annotations

import re
from bisect import bisect_right

UTF8 = "utf8"  # column in UTF-8 bytes (already the stored unit, BOM aside)
UTF16 = "utf16"  # column in UTF-16 code units: an astral character (emoji) counts 2
UTF32 = "utf32"  # column in code points: one per character
CHAR = UTF32  # a Python str index is a code point index
UNITS = (UTF8, UTF16, UTF32)

BOM = "\ufeff"
_BOM_BYTES = 3  # len(BOM.encode("utf-8"))
# Line breaks as ast and pyright split lines: \r\n, a lone \r, \n.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _utf8_len(ch: str) -> int:
    cp = ord(ch)
    if cp < 0x80:
        return 1
    if cp < 0x800:
        return 2
    if 0xDC80 <= cp <= 0xDCFF:
        return 1  # an undecodable byte kept by errors="surrogateescape"
    return 3 if cp < 0x10000 else 4


def _units(ch: str, unit: str) -> int:
    if unit == UTF16:
        return 2 if ord(ch) > 0xFFFF else 1
    if unit == UTF32:
        return 1
    return _utf8_len(ch)


class LineIndex:
    """The lines of one file's text, built once, converting tool columns to UTF-8 byte columns.

    `text` is the file as the tool saw it: a leading BOM is kept if the tool counts it (scip-python
    does) and is then dropped from every converted column on line 1; text decoded with the BOM
    already removed (`pysource.decode_python`) simply has none. Lines are split at \\r\\n, \\r
    and \\n (ast's and pyright's line numbering); line numbers are 1-based.

    Per-line tables are built lazily, only for non-ASCII lines (on an ASCII line every unit is
    one byte, so a column is returned unchanged).
    """

    def __init__(self, text: str) -> None:
        self._bom = text.startswith(BOM)
        self._lines = _LINE_BREAK.split(text)
        # (line, unit) -> cumulative units before each character of that line
        self._tables: dict[tuple[int, str], list[int]] = {}

    @classmethod
    def from_bytes(cls, data: bytes) -> LineIndex:
        """Index of UTF-8 `data` as a tool reads it: BOM kept, undecodable bytes kept as one
        byte each (errors="surrogateescape"), so byte columns stay exact around them."""
        return cls(data.decode("utf-8", errors="surrogateescape"))

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def line(self, line: int) -> str | None:
        """Text of 1-based `line` without its line break (and without a BOM); None if absent."""
        if not 1 <= line <= len(self._lines):
            return None
        text = self._lines[line - 1]
        return text[1:] if line == 1 and self._bom else text

    def byte_col(self, line: int, col: int, unit: str) -> int:
        """0-based UTF-8 byte column of column `col` of 1-based `line`, counted in `unit`.

        A column inside a character (the second half of a UTF-16 surrogate pair, the middle
        bytes of a UTF-8 sequence) maps to the start of that character; a column past the end
        of the line (a range ending at the line break) keeps its excess as bytes; a line that
        does not exist returns `col` unchanged. On line 1 of a text with a BOM the BOM's units
        are counted in `col` and its bytes dropped from the result (never below 0).
        Raises ValueError for a `unit` not in UNITS.
        """
        chars, excess = self._char_col(line, col, unit)
        if chars is None:
            return col
        text = self._lines[line - 1]
        if text.isascii():
            return chars + excess
        nbytes = self._table(line, UTF8)[chars] + excess
        return max(nbytes - _BOM_BYTES, 0) if line == 1 and self._bom else nbytes

    def text(self, line: int, start: int, end: int, unit: str) -> str:
        """The text of 1-based `line` between columns `start` and `end` counted in `unit`
        (BOM dropped); '' for a line that does not exist. ValueError for an unknown unit."""
        first, _ = self._char_col(line, start, unit)
        last, _ = self._char_col(line, end, unit)
        if first is None or last is None:
            return ""
        return self._lines[line - 1][first:last].lstrip(BOM)

    def _char_col(self, line: int, col: int, unit: str) -> tuple[int | None, int]:
        """(index of the character that column `col` falls in, units past the line's end)."""
        if unit not in UNITS:
            raise ValueError(f"unknown column unit {unit!r}; expected one of {UNITS}")
        if not 1 <= line <= len(self._lines):
            return None, 0
        text = self._lines[line - 1]
        if text.isascii():
            return min(col, len(text)), max(col - len(text), 0)
        if unit == UTF32:
            return min(col, len(text)), max(col - len(text), 0)
        units = self._table(line, unit)
        if col >= units[-1]:
            return len(text), col - units[-1]
        return bisect_right(units, col) - 1, 0

    def _table(self, line: int, unit: str) -> list[int]:
        """Cumulative `unit` counts before each character of `line` (len(text) + 1 entries)."""
        key = (line, unit)
        table = self._tables.get(key)
        if table is None:
            table = [0]
            for ch in self._lines[line - 1]:
                table.append(table[-1] + _units(ch, unit))
            self._tables[key] = table
        return table
