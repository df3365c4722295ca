"""Registration decorators return the function itself: calls of the decorated name run it."""
COMMANDS = {}


def command(name):
    def register(func):
        COMMANDS[name] = func
        return func
    return register


def run(name, *args):
    return COMMANDS[name](*args)


@command("greet")
def greet(who):
    return f"hello {who}"


@command("shout")
def shout(who):
    return greet(who).upper()
