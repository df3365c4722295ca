"""codeintel-assets: a code-intelligence warehouse for Python repositories (Dagster + DuckDB)."""
