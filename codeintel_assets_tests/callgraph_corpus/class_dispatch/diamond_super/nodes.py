class Base:
    def render(self):
        return self.tag() + ":" + self.body()

    def tag(self):
        return "base"

    def body(self):
        return ""


class Left(Base):
    def body(self):
        return "L" + super().body()


class Right(Base):
    def tag(self):
        return "right"

    def body(self):
        return "R" + super().body()


class Both(Left, Right):
    def body(self):
        return "B" + super().body()
