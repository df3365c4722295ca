from .base import Plugin


class CachePlugin(Plugin):
    name = "cache"

    def setup(self):
        steps = super().setup()
        steps.append("warm cache")
        return steps


class RedisCachePlugin(CachePlugin):
    name = "redis"

    def __init__(self, url, **options):
        super().__init__(options)
        self.url = url

    def setup(self):
        return super().setup() + [f"connect {self.url}"]
