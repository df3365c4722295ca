def encode_hex(data):
    return data.hex()


def encode_upper(data):
    return data.decode().upper()


def pass_through(data):
    return data


def encoder(name, strict=True):
    if name == "hex":
        return encode_hex
    elif name == "upper":
        return encode_upper
    if strict:
        raise ValueError(name)
    return pass_through


class Pipeline:
    def stage(self, kind):
        if kind is None:
            return self.quiet
        return self.loud

    def quiet(self, text):
        return text

    def loud(self, text):
        return text.upper() + "!"
