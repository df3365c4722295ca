from dynamic_dispatch__visitor_getattr.visitor import Evaluator


def main():
    tree = ("add", ("num", 2), ("neg", ("num", 5)))
    print(Evaluator().visit(tree))


if __name__ == "__main__":
    main()
