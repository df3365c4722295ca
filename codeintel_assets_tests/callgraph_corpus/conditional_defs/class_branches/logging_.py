"""Methods defined in branches of a class body and a function in an if/elif/else version
chain: a flag leaves both methods possible, a version check decides its branch."""
import os
import sys

VERBOSE = os.environ.get("CORPUS_VERBOSE") == "1"


class Logger:
    if VERBOSE:
        def emit(self, text):
            return "[verbose] " + text
    else:
        def emit(self, text):
            return text

    if sys.version_info >= (3, 0):
        def tag(self):
            return "py3"
    else:
        def tag(self):
            return "py2"

    def log(self, text):
        return self.emit(self.tag() + ": " + text)


if sys.version_info[0] == 2:
    def width(text):
        return len(text.decode())
elif sys.version_info[:2] >= (3, 8):
    def width(text):
        return len(text)
else:
    def width(text):
        return len(str(text))
