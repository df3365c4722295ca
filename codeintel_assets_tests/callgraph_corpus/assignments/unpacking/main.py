"""Functions through tuple and starred unpacking, nested tuples, chains of names, a returned
tuple and a module-level tuple imported and unpacked."""
from assignments__unpacking.steps import STAGES, audit, load, pair, parse, save


def main():
    reader, writer = load, save
    first, *rest = [parse, audit, save]
    (a, (b, c)) = (load, (parse, save))
    x = y = audit
    chain = x
    z = chain
    print(writer(parse(reader())))
    print(first("a"), [f("b") for f in rest])
    print(c(b(a())))
    print(z(y("q")))
    head, tail = pair()
    print(tail(head()))
    p, s = STAGES
    print(s(p("w")))


if __name__ == "__main__":
    main()
