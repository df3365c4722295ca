from .errors import ApiError


class Client:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")

    def url(self, path):
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path):
        if path.startswith("/admin"):
            raise ApiError(403, "forbidden " + self.url(path))
        return {"url": self.url(path)}
