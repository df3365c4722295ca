"""eval and exec of code that calls the program's functions, and methods of builtin types
(external callees) next to calls of the program's own functions."""


def compute(n):
    return n * 3


def words(text):
    return text.split()


def main():
    print(eval("compute(2)"))
    exec("print(compute(4))")
    print("-".join(words("a b c")))
    counts = {"a": 1, "b": 2}
    for key, value in counts.items():
        print(key, compute(value))


if __name__ == "__main__":
    main()
