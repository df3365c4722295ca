def cmd_add(stack):
    stack.append(stack.pop() + stack.pop())


def cmd_mul(stack):
    stack.append(stack.pop() * stack.pop())


def cmd_dup(stack):
    stack.append(stack[-1])


COMMANDS = {"add": cmd_add, "mul": cmd_mul, "dup": cmd_dup}
