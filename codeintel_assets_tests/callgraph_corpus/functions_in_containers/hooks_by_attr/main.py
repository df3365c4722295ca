from functions_in_containers__hooks_by_attr.hooks import Hooks


def open_connection(name):
    return f"open {name}"


def close_connection(name):
    return f"close {name}"


def main():
    hooks = Hooks()
    hooks.add("before", open_connection)
    hooks.add("after", close_connection)
    print(hooks.fire("before", "db"), hooks.fire("after", "db"))
    first = hooks.hooks["before"][0]
    print(first("cache"))


if __name__ == "__main__":
    main()
