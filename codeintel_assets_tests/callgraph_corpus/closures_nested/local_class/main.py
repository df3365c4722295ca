"""A class defined inside a function (qualname `f.<locals>.C`), constructed and used there and
returned to the caller."""


def make_stack_type(limit):
    class BoundedStack:
        def __init__(self):
            self.items = []

        def push(self, item):
            if self.full():
                raise OverflowError(limit)
            self.items.append(item)
            return self

        def full(self):
            return len(self.items) >= limit

    probe = BoundedStack()
    probe.push("probe")
    return BoundedStack


def main():
    Stack = make_stack_type(2)
    stack = Stack().push(1).push(2)
    print(stack.full(), stack.items)


if __name__ == "__main__":
    main()
