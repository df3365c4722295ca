"""Functions passed by keyword, through a variable, and to map, filter, sorted and max: the
callee (or the builtin) calls them."""


def by_length(word):
    return len(word)


def is_short(word):
    return len(word) < 4


def shout(word):
    return word.upper()


def run(items, *, transform, keep=None):
    kept = [w for w in items if keep(w)] if keep else list(items)
    return [transform(w) for w in kept]


def main():
    words = ["pear", "fig", "banana"]
    chosen = shout
    print(run(words, transform=chosen, keep=is_short))
    print(sorted(words, key=by_length), max(words, key=by_length))
    print(list(map(shout, words)))
    print(list(filter(is_short, words)))


if __name__ == "__main__":
    main()
