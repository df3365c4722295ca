from properties_dunders__builtin_access.model import STACK, Choice, Context, Pair, current


def main():
    print(Choice().describe(), Pair().describe())
    root = Context()
    STACK.append(Context(root))
    ctx = current()
    print(ctx.meta, getattr(ctx, "_meta"))


if __name__ == "__main__":
    main()
