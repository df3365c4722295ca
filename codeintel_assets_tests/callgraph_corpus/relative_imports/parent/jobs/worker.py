"""A subpackage module reaching its parent package with `..`."""
from .. import config
from ..config import load


class Worker:
    def __init__(self, **overrides):
        self.cfg = load(overrides)

    def banner(self):
        return "worker(" + config.describe(self.cfg) + ")"
