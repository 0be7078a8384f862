"""The DuckDB raw schema's tables, the working tables of a load, and what a load reports.

raw.sources, raw.figures and raw.figures_rejected mirror raw/ as it was last read; a row of
figures.csv is in exactly one of the last two. The loader (`load.py`), the reading of the
CSV files (`duckdb_csv.py`) and the contract check (`contract_check.py`) share these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from orchestration.ingestion.raw_files import LINEAGE_COLUMNS
from orchestration.schemas.contract_sql import TYPED_COLUMNS
from orchestration.schemas.figures import COLUMNS

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
# Rows of a load that cannot be typed wait here until the check gives them their reason.
UNPARSED = "_raw_unparsed"
# Every row of a load, typed or not, in the layout the check reads.
INCOMING = "_raw_incoming"
# A row as read from figures.csv: its lineage, then the figure columns, all text.
WORKING_COLUMNS = (*LINEAGE_COLUMNS, *COLUMNS)
TYPED = TYPED_COLUMNS


@dataclass
class LoadReport:
    """What a load did: row counts after it, which sources it touched, and how long it took."""

    counts: dict[str, int]
    sources_reloaded: list[str] = field(default_factory=list)
    sources_unchanged: list[str] = field(default_factory=list)
    sources_removed: list[str] = field(default_factory=list)
    file_hashes: dict[str, str] = field(default_factory=dict)
    text_status: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    python_confirmed_quotes: int = 0
    files_read_by_python: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.sources_reloaded or self.sources_removed)


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables if this is a new warehouse."""
    conn.execute(DDL)


def counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows in each raw table."""
    return {
        name: conn.execute(f"select count(*) from {table}").fetchall()[0][0]
        for name, table in TABLES.items()
    }
