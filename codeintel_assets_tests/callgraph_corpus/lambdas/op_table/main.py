"""A module-level table of lambdas wrapping in-repo functions (calls inside a module-level lambda
belong to the module), and a lambda called immediately."""
from lambdas__op_table import arith

OPS = {
    "+": lambda a, b: arith.add(a, b),
    "-": lambda a, b: arith.sub(a, b),
    "/": lambda a, b: arith.safe_div(a, b),
}


def calculate(expr):
    left, op, right = expr.split()
    return OPS[op](float(left), float(right))


def main():
    print([calculate(e) for e in ["1 + 2", "5 - 3", "1 / 0"]])
    print((lambda x: calculate(f"{x} + {x}"))(4))


if __name__ == "__main__":
    main()
