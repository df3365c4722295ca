from .plugins.cache import RedisCachePlugin


def main():
    plugin = RedisCachePlugin("redis://localhost", ttl=60)
    print(plugin.setup(), plugin.describe())


if __name__ == "__main__":
    main()
