"""Where a marker (text that exists only outside raw/) is stored, in any file under a folder.

The search does not depend on how the pipeline lays its files out: it walks every file and looks
for the marker in its bytes. DuckDB compresses the strings it stores, and Parquet files are
compressed, so a file that is a DuckDB database or a Parquet file (by its magic bytes) is also
searched row by row, every column of every table and view read as text. The tests that use it
also plant a marker inside raw/ and check that it is found, so that a search that sees nothing
cannot pass for one that finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

DUCKDB_MAGIC = b"DUCK"  # at offset 8 of a DuckDB database file
PARQUET_MAGIC = b"PAR1"


def _names(rows: list[tuple]) -> list[str]:
    return [".".join(f'"{part}"' for part in row) for row in rows]


def tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of every attached database, as a qualified name."""
    return _names(
        conn.execute(
            "select database_name, schema_name, table_name from duckdb_tables() where not internal"
        ).fetchall()
    )


def views(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Every view of every attached database (a view may read files, such as Parquet)."""
    return _names(
        conn.execute(
            "select database_name, schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
    )


def rows_containing(conn: duckdb.DuckDBPyConnection, relation: str, marker: str) -> int:
    """How many rows of a relation hold the marker in any column, read as text."""
    return conn.execute(
        f"select count(*) from {relation} as r where contains(r::varchar, ?)", [marker]
    ).fetchall()[0][0]


def in_database(conn: duckdb.DuckDBPyConnection, marker: str) -> list[str]:
    """The tables and views of a DuckDB connection that hold the marker.

    A view that cannot be read from here (it reads files by a path relative to another
    folder) is passed over: the files it reads are searched on their own.
    """
    found = [name for name in tables(conn) if rows_containing(conn, name, marker)]
    for name in views(conn):
        try:
            if rows_containing(conn, name, marker):
                found.append(name)
        except duckdb.Error:
            continue
    return found


def _kind(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(12)
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    if head[:4] == PARQUET_MAGIC:
        return "parquet"
    return None


def found_in_files(root: Path, markers: Iterable[str], skip: Iterable[Path] = ()) -> list[str]:
    """Where each marker occurs under root: "<file>: <marker>" and "<file> <table>: <marker>".

    Files under `skip` (the folders the markers legitimately live in) are not searched.
    """
    markers = list(markers)
    skipped = [s.resolve() for s in skip]
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        if any(path.resolve().is_relative_to(s) for s in skipped):
            continue
        data = path.read_bytes()
        found += [f"{path}: {m}" for m in markers if m.encode() in data]
        kind = _kind(path)
        if kind == "duckdb" and not path.name.endswith(".wal"):
            with duckdb.connect(str(path), read_only=True) as conn:
                found += [f"{path} {t}: {m}" for m in markers for t in in_database(conn, m)]
        elif kind == "parquet":
            with duckdb.connect() as conn:
                relation = f"read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')"
                found += [f"{path}: {m}" for m in markers if rows_containing(conn, relation, m)]
    return found
