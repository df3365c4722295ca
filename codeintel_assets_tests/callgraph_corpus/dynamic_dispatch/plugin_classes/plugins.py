class Plugin:
    def run(self, text):
        return text


class Upper(Plugin):
    def run(self, text):
        return text.upper()


class Reverse(Plugin):
    def run(self, text):
        return super().run(text)[::-1]


PLUGINS = {cls.__name__.lower(): cls for cls in (Upper, Reverse)}
