"""A package assembling its namespace from submodules with star imports."""
from .base64ish import *  # noqa: F403
from .rot13 import *  # noqa: F403
