"""String helpers."""
import unicodedata


def ascii_fold(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slugify(text):
    folded = ascii_fold(text).lower()
    return "-".join(part for part in folded.split() if part)
