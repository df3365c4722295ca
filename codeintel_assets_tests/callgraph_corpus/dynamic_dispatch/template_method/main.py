from dynamic_dispatch__template_method.exporters import CsvExporter, HtmlExporter


def main():
    rows = [(1, "a"), (2, "b")]
    for exporter in (CsvExporter(), HtmlExporter()):
        print(exporter.export(rows))


if __name__ == "__main__":
    main()
