from direct_calls__module_level import settings


def main():
    print(settings.DEFAULTS, settings.current_retries(), settings.Limits.STRICT)


if __name__ == "__main__":
    main()
