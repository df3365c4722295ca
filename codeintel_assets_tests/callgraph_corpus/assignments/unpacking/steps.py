def load():
    return "data"


def parse(text):
    return text.upper()


def save(text):
    return f"saved {text}"


def audit(text):
    return text


def pair():
    return load, parse


STAGES = parse, save
