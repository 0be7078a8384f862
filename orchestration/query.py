"""`make sql Q="..."`: run one SQL query against the warehouse, read-only, and print it.

Read-only, so it never corrupts a thing; it does hold the file while it runs, so do not leave a
long query running during a pipeline run (DuckDB allows one writer and no readers beside it).
"""

import sys

import duckdb

from orchestration.paths import display, warehouse_path


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print('usage: make sql Q="select * from marts.segments"', file=sys.stderr)
        return 2
    path = warehouse_path()
    if not path.exists():
        print(f"error: no warehouse at {display(path)}: run `make run` first", file=sys.stderr)
        return 2
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            conn.sql(argv[0]).show(max_width=200, max_rows=100)
    except duckdb.Error as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
