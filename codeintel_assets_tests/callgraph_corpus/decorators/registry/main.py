from decorators__registry import commands


def main():
    print(commands.run("greet", "ada"))
    print(commands.run("shout", "bob"))
    print(commands.shout("eve"))


if __name__ == "__main__":
    main()
