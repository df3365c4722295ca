"""Decorators applied in a class body (the class is the caller of the decorator), wrapping
methods that are then called through the instance."""
from decorators__method_decorators.validation import logged, positive


class Account:
    def __init__(self):
        self.balance = 0
        self.log = []

    @logged("op:")
    @positive
    def deposit(self, amount):
        self.balance += amount
        return self.balance

    @logged("op:")
    def reset(self):
        self.balance = 0


def main():
    acct = Account()
    acct.deposit(5)
    acct.reset()
    print(acct.balance, acct.log)


if __name__ == "__main__":
    main()
