from decorators__retry_factory.retry import TransientError, retry

ATTEMPTS = {"n": 0}


@retry(times=4)
def flaky_fetch(url):
    ATTEMPTS["n"] += 1
    if ATTEMPTS["n"] < 3:
        raise TransientError(url)
    return f"body of {url}"


def main():
    print(flaky_fetch("https://example.test"), ATTEMPTS["n"])


if __name__ == "__main__":
    main()
