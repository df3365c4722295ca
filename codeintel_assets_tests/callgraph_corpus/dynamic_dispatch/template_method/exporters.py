class Exporter:
    """A template method: export() calls hooks the subclasses override."""

    def export(self, rows):
        return self.header() + "\n".join(self.format_row(r) for r in rows) + self.footer()

    def header(self):
        return ""

    def format_row(self, row):
        return str(row)

    def footer(self):
        return ""


class CsvExporter(Exporter):
    def format_row(self, row):
        return ",".join(map(str, row))


class HtmlExporter(Exporter):
    def header(self):
        return "<table>\n"

    def format_row(self, row):
        return "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"

    def footer(self):
        return "\n</table>"
