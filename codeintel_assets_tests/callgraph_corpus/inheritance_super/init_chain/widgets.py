class Widget:
    def __init__(self, name):
        self.name = name
        self.children = []

    def render(self):
        return f"<{self.name}>"


class Container(Widget):
    def __init__(self, name, *children):
        super().__init__(name)
        self.children.extend(children)

    def render(self):
        inner = "".join(child.render() for child in self.children)
        return super().render() + inner


class Window(Container):
    def __init__(self, title, *children):
        super(Window, self).__init__("window", *children)
        self.title = title
