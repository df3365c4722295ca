try:
    from conditional_defs__try_fallback.speedups import checksum
except ImportError:
    def checksum(data):
        return _fold(sum(data))


def _fold(total):
    return total & 0xFFFF


def verify(data, expected):
    return checksum(data) == expected
