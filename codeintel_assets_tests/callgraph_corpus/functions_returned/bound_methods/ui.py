class Button:
    def __init__(self, label):
        self.label = label
        self.clicks = 0

    def on_click(self):
        self.clicks += 1
        return f"{self.label} clicked {self.clicks}x"

    def on_hover(self):
        return f"hover {self.label}"

    def handler(self, event):
        return self.on_click if event == "click" else self.on_hover
