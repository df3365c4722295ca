"""Three levels of nested functions: the innermost calls a sibling of its parent through the
enclosing scope, and a local `render` that shadows the module's function of the same name."""


def render(node):
    return f"[{node}]"


def build_report(sections, bullet="-"):
    def render_section(name, items):
        def render_item(item):
            return f"  {bullet} " + render(item)

        def header():
            return title(name) + ":"

        return "\n".join([header(), *map(render_item, items)])

    def title(name):
        return render(name.upper())

    def render(node):
        return f"<{node}>"

    return "\n".join(render_section(k, v) for k, v in sections.items())


def main():
    print(build_report({"fruit": ["apple", "pear"], "veg": ["leek"]}), render("end"))


if __name__ == "__main__":
    main()
