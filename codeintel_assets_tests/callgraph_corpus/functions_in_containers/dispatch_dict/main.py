"""A dict from command names to functions: `COMMANDS[name](stack)` calls whichever is named."""
from functions_in_containers__dispatch_dict.commands import COMMANDS, cmd_dup


def run(program):
    stack = []
    for token in program.split():
        if token in COMMANDS:
            COMMANDS[token](stack)
        else:
            stack.append(int(token))
    return stack


def main():
    print(run("2 3 add dup mul"))
    handler = COMMANDS.get("dup", cmd_dup)
    print(handler([1]))


if __name__ == "__main__":
    main()
