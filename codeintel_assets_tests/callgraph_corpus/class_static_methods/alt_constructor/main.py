"""Alternative constructors: classmethods calling cls(...) (the class's __init__), another
classmethod and a staticmethod through cls."""
from class_static_methods__alt_constructor.config import Config


def main():
    a = Config.from_url("localhost:8080")
    b = Config.from_dict({"host": "db", "port": "5432", "debug": "yes"})
    print(a.host, a.port, b.debug, Config.parse_bool("no"))


if __name__ == "__main__":
    main()
