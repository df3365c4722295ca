class Resource:
    def __init__(self, name, **tags):
        self.name = name
        self.tags = tags

    def label(self):
        return f"{type(self).__name__}:{self.name}"


class Bucket(Resource):
    def region(self):
        return self.tags.get("region", "us-east-1")
