import os

FANCY = os.environ.get("CORPUS_FANCY_OUTPUT") == "1"


def plain_border(text):
    return f"| {text} |"


if FANCY:
    def box(text):
        return f"╭ {text} ╮"
else:
    def box(text):
        return plain_border(text)
