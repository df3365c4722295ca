class Plugin:
    name = "plugin"

    def __init__(self, options=None):
        self.options = options or {}

    def setup(self):
        return [f"setup {self.name}"]

    def describe(self):
        return f"{self.name} {sorted(self.options)}"
