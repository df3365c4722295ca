"""with statements over user context managers: made in the statement, returned by a factory,
held in a variable, two in one statement. Each runs __enter__ and __exit__ at the with."""
from implicit_protocols__context_managers.resources import Transaction, make_timer


def run(log):
    with Transaction(log) as entries:
        entries.append("work")
    with make_timer() as t, Transaction(log):
        print(t.started)
    tx = Transaction(log)
    with tx:
        pass
    return log


def main():
    print(run([]))


if __name__ == "__main__":
    main()
