import csv
import io
import json


def load_json(text):
    return json.loads(text)


def load_csv(text):
    return list(csv.DictReader(io.StringIO(text)))
