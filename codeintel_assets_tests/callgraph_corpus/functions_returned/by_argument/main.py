"""Functions returned according to the call's constant arguments: an if/elif chain, a keyword
argument, the fallthrough after it, and a method choosing a bound method by `is None`."""
from functions_returned__by_argument.encoders import Pipeline, encoder


def main():
    print(encoder("hex")(b"hi"))
    upper = encoder(name="upper")
    print(upper(b"hi"))
    print(encoder("raw", strict=False)(b"hi"))
    pipe = Pipeline()
    print(pipe.stage(None)("calm"))
    print(pipe.stage("shout")("hey"))


if __name__ == "__main__":
    main()
