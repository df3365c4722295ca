"""Settings computed at import time: module-level calls, a default argument, a class body."""
import os


def env_flag(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes")


def build_defaults():
    return {"debug": env_flag("CORPUS_DEBUG"), "retries": 3}


DEFAULTS = build_defaults()


def current_retries(retries=DEFAULTS["retries"], debug=env_flag("CORPUS_VERBOSE")):
    return retries + (1 if debug else 0)


class Limits:
    TIMEOUT = int(os.environ.get("CORPUS_TIMEOUT", "30"))
    STRICT = env_flag("CORPUS_STRICT", default=True)
