DEFAULTS = {"workers": 2, "queue": "default"}


def load(overrides=None):
    merged = dict(DEFAULTS)
    merged.update(overrides or {})
    return merged


def describe(cfg):
    return ", ".join(f"{k}={v}" for k, v in sorted(cfg.items()))
