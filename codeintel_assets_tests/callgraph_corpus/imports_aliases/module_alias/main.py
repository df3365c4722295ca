"""Modules imported under aliases and by dotted path; calls through module attributes."""
import imports_aliases__module_alias.codec as codec_mod
import imports_aliases__module_alias.storage.backend
from imports_aliases__module_alias.storage import backend as db


def store(record):
    key = record["id"]
    return imports_aliases__module_alias.storage.backend.save(key, codec_mod.encode(record))


def fetch(key):
    return codec_mod.decode(db.load(key))


def main():
    store({"id": "a", "n": 1})
    store({"id": "b", "n": 2})
    print([fetch(k) for k in db.keys()])


if __name__ == "__main__":
    main()
