"""Load raw/ into the DuckDB raw schema: DuckDB parses and checks, Python settles the rest.

The raw tables always mirror raw/ as it was read: re-running never duplicates, a folder that is
gone from raw/ is gone from the tables, and a crash mid-load rolls back to the previous load.

How a run goes:

1. Every folder is scanned in Python: its hash (files, article text, contract), source.yaml
   (checked with pandera) and the header of figures.csv. A folder whose hash is the one stored
   in the raw tables is left as it is; when no folder changed, nothing is written at all.
2. In one transaction, the rows of changed and removed sources are deleted, and DuckDB reads
   the figures.csv files of the changed ones (`duckdb_csv.py`; a file DuckDB cannot read
   cleanly is read by Python instead, `python_csv.py`). Rows that can be typed go straight
   into raw.figures; the others wait aside.
3. The contract is checked (`contract_check.py`): in SQL, with the same messages as the
   pandera model, and in Python for the few rows SQL flags.
4. Failing rows move to raw.figures_rejected, the sources are written, and the transaction
   commits: a reader sees the previous load or this one, never a mix.

The tables are defined in `raw_tables.py`.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.confine import printable
from orchestration.ingestion.contract_check import check_rows, incoming_view
from orchestration.ingestion.duckdb_csv import CSV_REJECTS, insert_figures
from orchestration.ingestion.folder_files import discover
from orchestration.ingestion.folder_hashes import FolderHashes
from orchestration.ingestion.raw_files import (
    LINEAGE_COLUMNS,
    REJECTED_COLUMNS,
    SourceFolder,
    scan_folder,
    validate_sources,
)
from orchestration.ingestion.raw_tables import (
    INCOMING,
    TABLES,
    UNPARSED,
    WORKING_COLUMNS,
    LoadReport,
    counts,
    ensure_raw_schema,
)
from orchestration.schemas.contract_sql import MACROS, VALUE_TEXT, literal
from orchestration.schemas.figures import COLUMNS

# DuckDB may use this much memory for a load and spills to disk beyond it; set so that a load
# of ten million figures stays well under 4 GB of resident memory with Python beside it.
MEMORY_LIMIT = "2GB"

TEMPORARY = (
    f"drop view if exists {INCOMING}; drop table if exists {UNPARSED}; "
    f"drop table if exists _reload; drop table if exists _touched_ids; {CSV_REJECTS}"
)


def load_raw(
    conn: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    loaded_at: datetime | None = None,
    force: bool = False,
) -> LoadReport:
    """Bring the raw tables in line with raw/, reloading only the sources that changed."""
    loaded_at = (loaded_at or datetime.now(UTC)).replace(tzinfo=None)
    clock = time.perf_counter()
    ensure_raw_schema(conn)
    paths = {printable(path.name): path for path in discover(raw_dir)}
    stored = dict(
        conn.execute(
            "select source_id, file_hash from raw.sources union "
            "select source_id, any_value(file_hash) from raw.figures_rejected group by source_id"
        ).fetchall()
    )
    # A folder whose kept hash (folder_hashes.py) is the stored one is unchanged, unread.
    kept = FolderHashes.of_instance()
    unchanged = {}
    for source_id, path in paths.items():
        digest = None if force else kept.known(path)
        if digest is not None and stored.get(source_id) == digest:
            unchanged[source_id] = digest
    with ThreadPoolExecutor(max_workers=2) as pool:
        scanned = list(pool.map(scan_folder, [p for s, p in paths.items() if s not in unchanged]))
    hashes = {**unchanged, **{f.source_id: f.file_hash for f in scanned}}
    report = LoadReport(
        counts={},
        file_hashes={source_id: hashes[source_id] for source_id in paths},
        text_status={f.source_id: f.text_status for f in scanned},
    )
    changed = [f for f in scanned if force or stored.get(f.source_id) != f.file_hash]
    report.sources_removed = sorted(set(stored) - set(paths))
    report.seconds["scan"] = time.perf_counter() - clock
    if not changed and not report.sources_removed:
        report.sources_unchanged = list(paths)
        report.counts = counts(conn)
        return report

    settings = _tune(conn)
    conn.execute(MACROS)
    conn.execute("begin transaction")
    try:
        touched = [f.source_id for f in changed] + report.sources_removed
        conn.execute(
            "create or replace temp table _touched_ids as "
            "select figure_id from raw.figures where source_id in (select unnest($ids)) union "
            "select figure_id from raw.figures_rejected where source_id in (select unnest($ids))",
            {"ids": touched},
        )
        _delete_sources(conn, touched)
        conn.execute(
            f"create or replace temp table {UNPARSED} ("
            + ", ".join(
                f"{c} {'integer' if c == 'source_row' else 'varchar'}" for c in WORKING_COLUMNS
            )
            + ")"
        )
        sources = [validate_sources(changed)]
        insert_figures(conn, changed, report, loaded_at)
        # An unchanged source that shares a figure id with a changed or removed one may see
        # its rows move between loaded and rejected (ids are unique across sources): reload it,
        # and in turn every source sharing an id with one reloaded so, since the check decides
        # an id's owner among the rows it reads.
        neighbours: list[SourceFolder] = []
        while sharing := _sharing_ids(
            conn, [*changed, *neighbours], set(paths) - {f.source_id for f in changed + neighbours}
        ):
            more = [scan_folder(paths[source_id]) for source_id in sharing]
            sources.append(validate_sources(more))
            _delete_sources(conn, [f.source_id for f in more])
            insert_figures(conn, more, report, loaded_at)
            neighbours += more
        reload = sorted([*changed, *neighbours], key=lambda f: f.source_id)
        incoming_view(conn, reload, everything=len(reload) == len(paths))
        report.rows_read = conn.execute(f"select count(*) from {INCOMING}").fetchall()[0][0]
        report.seconds["read"] = time.perf_counter() - clock
        rejected = check_rows(conn, reload, report, INCOMING)
        report.seconds["validate"] = time.perf_counter() - clock
        _finish(conn, reload, pd.concat(sources), rejected, loaded_at)
        conn.execute("commit")
        report.seconds["write"] = time.perf_counter() - clock
    except BaseException:
        conn.execute("rollback")
        raise
    finally:
        for name in ("_rejected_rows", "_file_rejections", "_sources", "_python_rows", "_files"):
            with contextlib.suppress(duckdb.Error):
                conn.unregister(name)
        conn.execute(TEMPORARY)
        _restore(conn, settings)
    report.sources_reloaded = [f.source_id for f in reload]
    reloaded = set(report.sources_reloaded)
    report.sources_unchanged = [source_id for source_id in paths if source_id not in reloaded]
    report.counts = counts(conn)
    return report


def _tune(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    names = ("memory_limit", "preserve_insertion_order")
    before = {
        name: conn.execute("select current_setting(?)", [name]).fetchall()[0][0] for name in names
    }
    conn.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    # Row order is carried by source_row, not by insertion order: let DuckDB write in parallel.
    conn.execute("set preserve_insertion_order = false")
    return before


def _restore(conn: duckdb.DuckDBPyConnection, settings: dict[str, str]) -> None:
    for name, value in settings.items():
        conn.execute(f"set {name} = {literal(str(value))}")


def _delete_sources(conn: duckdb.DuckDBPyConnection, source_ids: list[str]) -> None:
    for table in TABLES.values():
        conn.execute(f"delete from {table} where source_id in (select unnest(?))", [source_ids])


def _sharing_ids(
    conn: duckdb.DuckDBPyConnection, changed: list[SourceFolder], others: set[str]
) -> list[str]:
    """Unchanged sources (of `others`) that hold (or were refused) an id a touched source holds
    or held."""
    if not others:
        return []
    sharing = {
        source_id
        for (source_id,) in conn.execute(
            f"""
            with ids as (
                select figure_id from _touched_ids union
                select figure_id from raw.figures where source_id in (select unnest($changed))
                union select figure_id from {UNPARSED}
            )
            select distinct source_id from raw.figures
            where source_id in (select unnest($others)) and figure_id in (select * from ids)
            union
            select distinct source_id from raw.figures_rejected
            where source_id in (select unnest($others)) and figure_id in (select * from ids)
            """,
            {
                "changed": [f.source_id for f in changed],
                "others": sorted(others),
            },
        ).fetchall()
    }
    return sorted(sharing)


def _finish(
    conn: duckdb.DuckDBPyConnection,
    reload: list[SourceFolder],
    sources: pd.DataFrame,
    rejected: pd.DataFrame,
    loaded_at: datetime,
) -> None:
    """Within the load's transaction: the sources, and the rejected rows moved aside."""
    file_rejections = pd.DataFrame(
        [r.__dict__ for f in reload for r in f.rejections], columns=list(REJECTED_COLUMNS)
    ).astype(object)
    shown = {"value": VALUE_TEXT, "period_start": "coalesce(period_start, start_day::varchar)",
             "period_end": "coalesce(period_end, end_day::varchar)"}  # fmt: skip
    record = "json_object(" + ", ".join(f"'{c}', {shown.get(c, c)}" for c in COLUMNS) + ")::varchar"
    conn.register("_rejected_rows", rejected)
    conn.register("_file_rejections", file_rejections)
    conn.register("_sources", sources)
    if len(sources):
        conn.execute(
            "insert into raw.sources by name select *, ?::timestamp as loaded_at from _sources",
            [loaded_at],
        )
    if len(rejected):
        conn.execute(
            f"""
            insert into raw.figures_rejected by name
            select s.source_id, s.source_file, s.source_row, s.figure_id, r.column_name,
                   r.reason, s.record, s.file_hash, ?::timestamp as loaded_at
            from (select *, {record} as record from {INCOMING}) s join _rejected_rows r
                on s.source_id = r.source_id and s.source_row = r.source_row
            """,
            [loaded_at],
        )
        conn.execute(
            "delete from raw.figures f using _rejected_rows r "
            "where f.source_id = r.source_id and f.source_row = r.source_row"
        )
    if len(file_rejections):
        conn.execute(
            "insert into raw.figures_rejected by name "
            "select * replace (source_row::integer as source_row), "
            "?::timestamp as loaded_at from _file_rejections",
            [loaded_at],
        )


@dataclass
class Batch:
    """Everything raw/ holds, split into what loads and what does not."""

    sources: pd.DataFrame
    figures: pd.DataFrame
    rejected: pd.DataFrame
    text_status: dict[str, str] = field(default_factory=dict)


def read_raw(raw_dir: Path) -> Batch:
    """Read and check every source folder into an in-memory DuckDB; the tables as frames.

    The same loader as the warehouse's (`load_raw`), for `make check-source`, the draft and
    the tests: what loads and every rejection, with reasons.
    """
    with duckdb.connect() as conn:
        report = load_raw(conn, raw_dir, force=True)
        return read_batch(conn, report)


def read_batch(conn: duckdb.DuckDBPyConnection, report: LoadReport) -> Batch:
    """The raw tables as pandas frames, in file order (for small warehouses and the CLI)."""
    figures = conn.execute(
        f"select {', '.join([*COLUMNS, *LINEAGE_COLUMNS])} from raw.figures "
        "order by source_id, source_row"
    ).df()
    rejected = conn.execute(
        f"select {', '.join(REJECTED_COLUMNS)} from raw.figures_rejected "
        "order by source_id, source_row nulls first"
    ).df()
    rows = rejected["source_row"].astype(object)
    rejected["source_row"] = rows.where(rows.notna(), None)
    sources = conn.execute("select * exclude (loaded_at) from raw.sources order by source_id").df()
    return Batch(
        sources=sources,
        figures=figures,
        rejected=rejected,
        text_status=report.text_status,
    )
