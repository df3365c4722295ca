"""A word-count pipeline: nested calls, calls as arguments, a helper module."""
from collections import Counter

from direct_calls__pipeline.text import normalize, tokenize


def count_words(lines):
    counts = Counter()
    for line in lines:
        counts.update(tokenize(line))
    return counts


def top(counts, n):
    return [word for word, _ in counts.most_common(n)]


def main():
    lines = ["Hello, world!", "  hello   again, World. "]
    print(normalize(lines[1]))
    print(top(count_words(lines), 2))


if __name__ == "__main__":
    main()
