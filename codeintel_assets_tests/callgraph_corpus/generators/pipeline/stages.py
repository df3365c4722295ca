"""Generator stages chained lazily: each stage pulls from the previous one."""


def read_lines(text):
    for line in text.splitlines():
        yield line


def parse(lines):
    for line in lines:
        if line and not line.startswith("#"):
            yield parse_record(line)


def parse_record(line):
    key, _, value = line.partition("=")
    return key.strip(), value.strip()


def only(records, prefix):
    return (r for r in records if r[0].startswith(prefix))
