"""The one verdict on a file's size and bytes, shared by the scan and the extractors.

repo_scan records a file over `max_file_bytes` as parse_status 'too_large' (hashed, never
decoded) and a file with a NUL byte as 'binary'; no extractor parses such a file or judges it
by a limit of its own (config extraction records the scan's status as the file's one row).
"""

from __future__ import annotations

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024  # bytes; TargetRepo.max_file_bytes overrides it

# core.file_state.parse_status values of files no extractor parses.
UNPARSED_STATUSES: tuple[str, ...] = ("too_large", "binary")


def too_large_message(size: int, max_file_bytes: int) -> str:
    """core.file_state.parse_error of a file of `size` bytes over `max_file_bytes`."""
    return f"{size} bytes exceeds the limit of {max_file_bytes}"
