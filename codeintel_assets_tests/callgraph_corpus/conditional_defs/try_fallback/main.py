"""A pure-Python fallback defined in an `except ImportError:` block; the in-repo module it would
import from defines nothing (it raises), so the fallback is the only target."""
from conditional_defs__try_fallback.checksum import checksum, verify


def main():
    data = b"hello"
    print(checksum(data), verify(data, checksum(data)))


if __name__ == "__main__":
    main()
