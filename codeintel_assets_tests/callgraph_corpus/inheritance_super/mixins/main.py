from inheritance_super__mixins.model import Article


def main():
    log = []
    Article().save(log)
    print(" -> ".join(log))


if __name__ == "__main__":
    main()
