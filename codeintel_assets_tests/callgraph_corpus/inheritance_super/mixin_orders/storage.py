"""Two classes compose the same cooperative mixins in different orders: each mixin's
super().put() reaches a different class in each MRO."""


class Store:
    def put(self, log):
        log.append("store")


class Cache:
    def put(self, log):
        log.append("cache")
        super().put(log)


class Audit:
    def put(self, log):
        log.append("audit")
        super().put(log)


class CachedAudited(Cache, Audit, Store):
    pass


class AuditedCached(Audit, Cache, Store):
    def put(self, log):
        log.append("audited-cached")
        super().put(log)
