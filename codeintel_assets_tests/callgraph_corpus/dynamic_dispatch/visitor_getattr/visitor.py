class Evaluator:
    """Dispatch by method name built at runtime, as ast.NodeVisitor does."""

    def visit(self, node):
        method = getattr(self, "visit_" + node[0], self.generic_visit)
        return method(node)

    def generic_visit(self, node):
        raise TypeError(f"cannot evaluate {node[0]}")

    def visit_num(self, node):
        return node[1]

    def visit_add(self, node):
        return self.visit(node[1]) + self.visit(node[2])

    def visit_neg(self, node):
        return -self.visit(node[1])
