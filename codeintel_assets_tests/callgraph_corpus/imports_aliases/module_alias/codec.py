import json


def encode(obj):
    return json.dumps(obj, sort_keys=True)


def decode(text):
    return json.loads(text)
