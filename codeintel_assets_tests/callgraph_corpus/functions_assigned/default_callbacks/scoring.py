def by_length(word):
    return len(word)


def by_last(word):
    return ord(word[-1])


class Scorer:
    def __init__(self, key=by_length):
        self.key = key

    def score(self, word):
        return self.key(word)


def rank(words, score=by_length):
    return [score(w) for w in words]
