"""A function and a callback passed through keyword and positional arguments to a retry helper."""
from functions_passed__retry_call.resilience import call_with_retries

STATE = {"calls": 0, "failures": []}


def fetch(url):
    STATE["calls"] += 1
    if STATE["calls"] < 2:
        raise ConnectionError(url)
    return f"200 {url}"


def note(exc):
    STATE["failures"].append(repr(exc))


def main():
    print(call_with_retries(fetch, "https://example.test", on_failure=note))
    print(STATE)


if __name__ == "__main__":
    main()
