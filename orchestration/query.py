"""`make sql Q="..."`: run one SQL query against the published snapshot, read-only, and print it.

It reads what every reader reads: the last complete build (`data/published/giants.duckdb`), never
the pipeline's working database, so it neither blocks a run nor sees one half done.
"""

import sys

import duckdb

from orchestration.paths import PUBLISHED_DATABASE, display, publish_dir


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print('usage: make sql Q="select * from marts.segments"', file=sys.stderr)
        return 2
    path = publish_dir() / PUBLISHED_DATABASE
    if not path.exists():
        print(f"error: nothing published at {display(path)}: run `make run` first", file=sys.stderr)
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
