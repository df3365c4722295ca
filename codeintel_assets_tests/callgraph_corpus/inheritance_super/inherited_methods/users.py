from inheritance_super__inherited_methods.base import Repository


class UserRepository(Repository):
    def prepare(self, row):
        row = super().prepare(row)
        row["email"] = row["email"].lower()
        return row

    def by_email(self, email):
        return [k for k in self._rows if self.get(k)["email"] == email.lower()]
