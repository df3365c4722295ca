"""Calling a generator function creates the generator (the call-site edge); iterating resumes
its frame elsewhere (implicit)."""
from generators__pipeline.stages import only, parse, read_lines

CONFIG = "# settings\ndb.host = localhost\ndb.port = 5432\n\ncache.ttl = 60\n"


def main():
    lines = read_lines(CONFIG)
    records = parse(lines)
    for key, value in only(records, "db."):
        print(key, value)


if __name__ == "__main__":
    main()
