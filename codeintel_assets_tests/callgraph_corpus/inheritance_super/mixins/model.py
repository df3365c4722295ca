"""Cooperative mixins: each save() calls super().save(), which the instance's MRO resolves to
the next class after the mixin, not the mixin's own base (object)."""


class Base:
    def save(self, log):
        log.append("base")


class TimestampMixin:
    def save(self, log):
        log.append("timestamp")
        super().save(log)


class ValidateMixin:
    def save(self, log):
        log.append("validate")
        super().save(log)


class Article(TimestampMixin, ValidateMixin, Base):
    def save(self, log):
        log.append("article")
        super().save(log)
