"""Module-level aliases selecting an implementation, as compatibility shims do."""


def _scan_v1(data):
    return [b for b in data if b]


def _scan_v2(data):
    return [b for b in data if b is not None]


scan = _scan_v2
legacy_scan = _scan_v1
