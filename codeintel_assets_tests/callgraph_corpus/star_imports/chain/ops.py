"""Re-exports base_ops with a star import and adds its own functions."""
from .base_ops import *  # noqa: F403


def smoothstep(t):
    t = clamp(t, 0.0, 1.0)  # noqa: F405
    return t * t * (3 - 2 * t)
