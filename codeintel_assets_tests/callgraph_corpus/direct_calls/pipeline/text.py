"""Small text helpers, called from main and from each other."""
import re

_SPACES = re.compile(r"\s+")


def collapse(text):
    return _SPACES.sub(" ", text).strip()


def strip_punctuation(text):
    return "".join(ch for ch in text if ch.isalnum() or ch.isspace())


def normalize(text):
    return collapse(strip_punctuation(text)).lower()


def tokenize(text):
    return normalize(text).split(" ")
