"""Unrelated classes with the same method name (duck typing): `sink.write(...)` on a parameter
without annotation reaches whichever sinks are passed, not the one never passed."""
from dynamic_dispatch__duck_typing.sinks import CountingSink, MemorySink


def log_all(sink, messages):
    for message in messages:
        sink.write(message.upper())


def main():
    memory, counter = MemorySink(), CountingSink()
    log_all(memory, ["a", "bc"])
    log_all(counter, ["def"])
    print(memory.lines, counter.count)


if __name__ == "__main__":
    main()
