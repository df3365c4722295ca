def weight(item):
    return item["stars"] * 2 + item["forks"]


def tiebreak(item):
    return item["name"].lower()
