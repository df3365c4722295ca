class Config:
    def __init__(self, host, port, debug=False):
        self.host, self.port, self.debug = host, port, debug

    @classmethod
    def from_dict(cls, data):
        return cls(data["host"], int(data["port"]), cls.parse_bool(data.get("debug", "")))

    @classmethod
    def from_url(cls, url):
        host, _, port = url.rpartition(":")
        return cls.from_dict({"host": host, "port": port})

    @staticmethod
    def parse_bool(text):
        return text.lower() in ("1", "true", "yes")
