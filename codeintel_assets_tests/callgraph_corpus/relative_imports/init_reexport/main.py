"""Classes re-exported by a subpackage's __init__ and imported relatively from it."""
from .api import ApiError, Client


def main():
    client = Client("https://example.test/")
    print(client.get("/users"))
    try:
        client.get("/admin/keys")
    except ApiError as err:
        print(err.status, err)


if __name__ == "__main__":
    main()
