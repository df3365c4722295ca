def create(x):
    return f"create {x}"


def delete(x):
    return f"delete {x}"


def update(x):
    return f"update {x}"


def list_all(x):
    return f"list {x}"
