import base64

__all__ = ["b64", "unb64"]


def b64(text):
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    return base64.b64decode(text.encode()).decode()
