def call_with_retries(func, *args, attempts=3, on_failure=None):
    last = None
    for _ in range(attempts):
        try:
            return func(*args)
        except ConnectionError as exc:
            last = exc
            if on_failure is not None:
                on_failure(exc)
    raise last
