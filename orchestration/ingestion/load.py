"""Write a read batch into the DuckDB raw schema, replacing what was there in one transaction.

The raw tables always mirror raw/ as it was read: re-running never duplicates, a folder that is
gone from raw/ is gone from the tables, and a crash mid-load rolls back to the previous load.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from orchestration.ingestion.raw_files import Batch

DDL = """
create schema if not exists raw;
create table if not exists raw.sources (
    source_id varchar not null,
    title_en varchar,
    title_zh varchar,
    publisher varchar not null,
    author varchar,
    publication_date date not null,
    languages varchar not null,
    authoritative_language varchar not null,
    citation varchar not null,
    notes varchar,
    text varchar,
    source_file varchar not null,
    file_hash varchar not null,
    loaded_at timestamp not null
);
create table if not exists raw.figures (
    figure_id varchar not null,
    company varchar not null,
    business varchar,
    business_zh varchar,
    scope varchar not null,
    segment varchar not null,
    metric varchar not null,
    measure varchar not null,
    period varchar not null,
    period_start date not null,
    period_end date not null,
    value double not null,
    unit varchar not null,
    qualifier varchar not null,
    quote_zh varchar not null,
    quote_en varchar,
    translation_discrepancy varchar,
    note varchar,
    source_id varchar not null,
    source_file varchar not null,
    source_row integer not null,
    file_hash varchar not null,
    loaded_at timestamp not null
);
create table if not exists raw.figures_rejected (
    source_id varchar not null,
    source_file varchar not null,
    source_row integer,
    figure_id varchar,
    column_name varchar,
    reason varchar not null,
    record varchar,
    file_hash varchar not null,
    loaded_at timestamp not null
);
"""

TABLES = {"sources": "raw.sources", "figures": "raw.figures", "rejected": "raw.figures_rejected"}


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables if this is a new warehouse."""
    conn.execute(DDL)


def write_batch(
    conn: duckdb.DuckDBPyConnection, batch: Batch, loaded_at: datetime | None = None
) -> dict[str, int]:
    """Replace the raw tables with the batch in one transaction; row counts after the write."""
    loaded_at = (loaded_at or datetime.now(UTC)).replace(tzinfo=None)
    ensure_raw_schema(conn)
    frames = {"sources": batch.sources, "figures": batch.figures, "rejected": batch.rejected}
    conn.execute("begin transaction")
    try:
        for table in TABLES.values():
            conn.execute(f"delete from {table}")
        for name, frame in frames.items():
            if len(frame):
                conn.register("incoming", frame)
                conn.execute(
                    f"insert into {TABLES[name]} by name "
                    "select *, ?::timestamp as loaded_at from incoming",
                    [loaded_at],
                )
                conn.unregister("incoming")
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    counts = {
        name: conn.execute(f"select count(*) from {table}").fetchone()[0]
        for name, table in TABLES.items()
    }
    return counts
