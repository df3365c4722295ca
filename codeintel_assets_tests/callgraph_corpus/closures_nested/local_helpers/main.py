"""Helpers nested inside a function, calling each other and the enclosing module's functions."""
import re


def words(text):
    return re.findall(r"[a-z']+", text.lower())


def summarize(text, top=3):
    def frequencies():
        counts = {}
        for word in words(text):
            counts[word] = counts.get(word, 0) + 1
        return counts

    def ranked():
        return sorted(frequencies().items(), key=rank_key)

    def rank_key(item):
        return (-item[1], item[0])

    return [word for word, _ in ranked()[:top]]


def main():
    print(summarize("the cat and the hat and the bat"))


if __name__ == "__main__":
    main()
