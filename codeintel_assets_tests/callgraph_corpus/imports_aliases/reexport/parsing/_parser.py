def parse(tokens):
    stack = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(atom(token))
    return stack[0]


def atom(token):
    return int(token) if token.isdigit() else token
