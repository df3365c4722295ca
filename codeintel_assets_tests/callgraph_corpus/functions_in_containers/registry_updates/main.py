"""A registry dict filled by a literal, by key and by update(); a list filled by append(); a
nested container; a dict returned by a function; iteration over items()."""
from functions_in_containers__registry_updates.ops import create, delete, list_all, update

REGISTRY = {"create": create}
REGISTRY["delete"] = delete
REGISTRY.update({"update": update})
PIPELINE = []
PIPELINE.append(list_all)
NESTED = {"crud": {"create": create}, "steps": [delete]}


def dispatch(table, name, arg):
    return table[name](arg)


def build():
    return {"list": list_all}


def main():
    for name in ("create", "delete", "update"):
        print(dispatch(REGISTRY, name, 1))
    for step in PIPELINE:
        print(step(2))
    print(NESTED["crud"]["create"](3), NESTED["steps"][0](4), build()["list"](5))
    for name, fn in REGISTRY.items():
        print(name, fn(6))


if __name__ == "__main__":
    main()
