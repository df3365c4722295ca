import functools


class Settings:
    def __init__(self, raw):
        self._raw = dict(raw)

    @functools.cached_property
    def debug(self):
        return self._raw.get("debug") == "1"

    @property
    def name(self):
        return self._raw["name"]

    @name.setter
    def name(self, value):
        self._raw["name"] = value.strip()

    @name.deleter
    def name(self):
        self._raw.pop("name")


class LocalSettings(Settings):
    @property
    def name(self):
        return "local:" + self._raw["name"]
