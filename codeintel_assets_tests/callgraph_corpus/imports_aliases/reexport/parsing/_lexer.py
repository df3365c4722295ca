def tokenize(text):
    return [t for t in text.replace("(", " ( ").replace(")", " ) ").split() if t]
