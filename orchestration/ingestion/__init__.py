"""raw/ -> DuckDB raw schema: reading the source folders and loading what passes the contract."""
