import json


def as_json(data):
    return json.dumps(data)


def as_text(data):
    return "; ".join(f"{k}={v}" for k, v in data.items())


def formatter_for(kind):
    if kind == "json":
        return as_json
    return as_text
