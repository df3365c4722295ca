"""External programs: the runner that starts them and one parser module per tool."""
