"""Load raw/ into the DuckDB raw schema: DuckDB parses and checks, Python settles the rest.

The raw tables always mirror raw/ as it was read: re-running never duplicates, a folder that is
gone from raw/ is gone from the tables, and a crash mid-load rolls back to the previous load.

How a run goes:

1. Every folder is scanned in Python: its hash (files, article text, contract), source.yaml
   (checked with pandera) and the header of figures.csv. A folder whose hash is the one stored
   in the raw tables is left as it is; when no folder changed, nothing is written at all.
2. In one transaction, the rows of changed and removed sources are deleted, and DuckDB reads
   the figures.csv files of the changed ones: one `read_csv` per header, all VARCHAR, with
   `WITH ORDINALITY` for the line number (the header is line 1; a file that is not one record
   per line, or that DuckDB cannot parse, is read by Python instead, see `raw_files.py`).
   Rows that can be typed go straight into raw.figures; the others wait aside.
3. The contract is checked in SQL (`orchestration/schemas/contract_sql.py`), with the same
   messages as the pandera model. Only the rows SQL flags reach Python: quotes it cannot
   confirm go to the number parser (`numbers.py`), and every failing row gets its sentence.
4. Failing rows move to raw.figures_rejected, the sources are written, and the transaction
   commits: a reader sees the previous load or this one, never a mix.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.figures.messages import quote_not_in_text
from orchestration.figures.numbers import supporting_mention
from orchestration.ingestion.raw_files import (
    LINEAGE_COLUMNS,
    REJECTED_COLUMNS,
    SourceFolder,
    discover,
    scan_folder,
    validate_sources,
)
from orchestration.schemas.contract_sql import (
    MACROS,
    TYPED_COLUMNS,
    VALUE_TEXT,
    column_rules,
    literal,
    passes,
    problems,
    quote_confirmed,
    quote_text,
    quote_token,
    row_rules,
    typed_from_text,
)
from orchestration.schemas.figures import COLUMNS, REQUIRED_COLUMNS
from orchestration.schemas.validation import ROW_CHECK_MESSAGES

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
# DuckDB may use this much memory for a load and spills to disk beyond it; set so that a load
# of ten million figures stays well under 4 GB of resident memory with Python beside it.
MEMORY_LIMIT = "2GB"
UNPARSED = "_raw_unparsed"
INCOMING = "_raw_incoming"
STAGED_COLUMNS = (*LINEAGE_COLUMNS, *COLUMNS)
TYPED = TYPED_COLUMNS
# At most this many parallel scans of figures.csv files (see `_csv_rows`).
MAX_SCANS = 16
CSV_REJECTS = "; ".join(
    f"drop table if exists _csv_rejects_{n}; drop table if exists _csv_scans_{n}"
    for n in range(MAX_SCANS)
)
TEMPORARY = (
    f"drop view if exists {INCOMING}; drop table if exists {UNPARSED}; "
    f"drop table if exists _reload; drop table if exists _touched_ids; {CSV_REJECTS}"
)


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
    paths = discover(raw_dir)
    with ThreadPoolExecutor(max_workers=2) as pool:
        folders = list(pool.map(scan_folder, paths))
    stored = dict(
        conn.execute(
            "select source_id, file_hash from raw.sources union "
            "select source_id, any_value(file_hash) from raw.figures_rejected group by source_id"
        ).fetchall()
    )
    report = LoadReport(
        counts={},
        file_hashes={f.source_id: f.file_hash for f in folders},
        text_status={f.source_id: f.text_status for f in folders},
    )
    changed = [f for f in folders if force or stored.get(f.source_id) != f.file_hash]
    report.sources_removed = sorted(set(stored) - {f.source_id for f in folders})
    report.seconds["scan"] = time.perf_counter() - clock
    if not changed and not report.sources_removed:
        report.sources_unchanged = [f.source_id for f in folders]
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
                f"{c} {'integer' if c == 'source_row' else 'varchar'}" for c in STAGED_COLUMNS
            )
            + ")"
        )
        sources = [validate_sources(changed)]
        _stage(conn, changed, report, loaded_at)
        # An unchanged source that shares a figure id with a changed or removed one may see
        # its rows move between loaded and rejected (ids are unique across sources): reload it.
        neighbours = _sharing_ids(conn, changed, [f for f in folders if f not in changed])
        if neighbours:
            sources.append(validate_sources(neighbours))
            _delete_sources(conn, [f.source_id for f in neighbours])
            _stage(conn, neighbours, report, loaded_at)
        reload = sorted([*changed, *neighbours], key=lambda f: f.source_id)
        _incoming_view(conn, reload, everything=len(reload) == len(folders))
        report.rows_read = conn.execute(f"select count(*) from {INCOMING}").fetchall()[0][0]
        report.seconds["read"] = time.perf_counter() - clock
        rejected = _check(conn, reload, report, INCOMING)
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
    report.sources_unchanged = [f.source_id for f in folders if f.source_id not in reloaded]
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


def _stage(
    conn: duckdb.DuckDBPyConnection,
    folders: list[SourceFolder],
    report: LoadReport,
    loaded_at: datetime,
) -> None:
    """Insert the figures of these folders: typed rows into raw.figures, the rest aside.

    A row whose value or dates do not parse, or whose required field is empty, cannot be
    typed; it waits in the unparsed table until the checks give it its reason.
    """
    by_header: dict[tuple[str, ...], list[SourceFolder]] = defaultdict(list)
    for folder in folders:
        if folder.header is not None:
            by_header[folder.header].append(folder)
    for header, group in by_header.items():
        while group:
            irregular = _read_csv(conn, header, group, loaded_at)
            if not irregular:
                break
            # Lines DuckDB could not read shift every later line number: re-read the group
            # without those files, which Python reads instead and explains line by line.
            _delete_rows(conn, [f.source_id for f in group])
            for folder in irregular:
                folder.read_with_python()
            group = [f for f in group if f not in irregular]
    # Files read by Python from the start (a header DuckDB cannot use) or after the above.
    report.files_read_by_python += sum(1 for f in folders if f.header is None and f.rows)
    rows = [
        {"source_id": f.source_id, "source_file": f.figures_path, "source_row": line,
         "file_hash": f.file_hash, **{c: record.get(c) or None for c in COLUMNS}}
        for f in folders
        if f.header is None
        for line, record in f.rows
    ]  # fmt: skip
    if rows:
        frame = pd.DataFrame(rows, columns=list(STAGED_COLUMNS)).astype(
            {c: object for c in STAGED_COLUMNS if c != "source_row"}
        )
        conn.register("_python_rows", frame)
        _insert(conn, "_python_rows", loaded_at)
        conn.unregister("_python_rows")


def _delete_rows(conn: duckdb.DuckDBPyConnection, source_ids: list[str]) -> None:
    for table in ("raw.figures", UNPARSED):
        conn.execute(f"delete from {table} where source_id in (select unnest(?))", [source_ids])


def _typed(rows: str) -> str:
    """SQL: the rows, with each typed column computed once from its text, as _<column>_typed."""
    typed = ", ".join(f"{typed_from_text(c)} as _{c}_typed" for c in TYPED)
    return f"(select *, {typed} from {rows})"


def _loadable() -> str:
    """SQL over `_typed` rows: a staged row can be typed into raw.figures (it may still break a
    rule).

    A value too large for a double (a plain decimal of 400 digits) stays aside too: typed, it
    would read `inf`, and its rejection must show the value as written.
    """
    required = [f"{c} is not null" for c in REQUIRED_COLUMNS if c not in TYPED]
    typed = [f"_{c}_typed is not null" for c in TYPED]
    return " and ".join([*required, *typed, "isfinite(_value_typed)"])


def _insert(
    conn: duckdb.DuckDBPyConnection, rows: str, loaded_at: datetime, typed: bool = True
) -> None:
    """Rows (staging layout, all VARCHAR) into raw.figures, or those that cannot be typed aside."""
    if not typed:
        columns = ", ".join(STAGED_COLUMNS)
        conn.execute(
            f"insert into {UNPARSED} by name select {columns} from {_typed(rows)} "
            f"where not ({_loadable()})"
        )
        return
    columns = ", ".join(f"_{c}_typed as {c}" if c in TYPED else c for c in STAGED_COLUMNS)
    conn.execute(
        f"insert into raw.figures by name select {columns}, ?::timestamp as loaded_at "
        f"from {_typed(rows)} where {_loadable()}",
        [loaded_at],
    )


def _chunks(group: list[SourceFolder], count: int) -> list[list[SourceFolder]]:
    """The files in `count` runs of consecutive files with about as many records each."""
    total = sum(f.records for f in group)
    chunks: list[list[SourceFolder]] = [[]]
    done = 0
    for folder in group:
        if chunks[-1] and len(chunks) < count and done >= total * len(chunks) / count:
            chunks.append([])
        chunks[-1].append(folder)
        done += folder.records
    return chunks


def _csv_rows(
    conn: duckdb.DuckDBPyConnection, header: tuple[str, ...], group: list[SourceFolder]
) -> str:
    """SQL: the records of these files (one header), each with its source and line number.

    WITH ORDINALITY numbers the records across the files of one `read_csv` in order; a file's
    first record is its line 2 when the file holds one record per line, which `_read_csv`
    verifies. Numbering in order keeps a scan on one thread, so the files are read in as many
    scans as DuckDB has threads (one UNION ALL), each numbering its own files: half the time
    on two cores.
    """
    threads = conn.execute("select current_setting('threads')").fetchall()[0][0]
    chunks = _chunks(group, max(1, min(int(threads), len(group), MAX_SCANS)))
    files = pd.DataFrame(
        [
            {
                "filename": str(f.folder / "figures.csv"),
                "source_id": f.source_id,
                "source_file": f.figures_path,
                "file_hash": f.file_hash,
                "first": first,
            }
            for chunk in chunks
            for f, first in zip(
                chunk,
                [0, *pd.Series([f.records for f in chunk]).cumsum().tolist()[:-1]],
                strict=True,
            )
        ],
        columns=["filename", "source_id", "source_file", "file_hash", "first"],
    )
    conn.register("_files", files)
    types = "{" + ", ".join(f"{literal(name)}: 'VARCHAR'" for name in header) + "}"
    present = set(header)
    select = ", ".join(
        f"nullif(trim(c.{name}), '') as {name}" if name in present else f"null as {name}"
        for name in COLUMNS
    )
    conn.execute(CSV_REJECTS)
    scans = []
    for number, chunk in enumerate(chunks):
        file_list = "[" + ", ".join(literal(str(f.folder / "figures.csv")) for f in chunk) + "]"
        scans.append(
            f"""
            select f.source_id, f.source_file,
                   (c.ordinality - f.first + 1)::integer as source_row, f.file_hash, {select}
            from read_csv({file_list}, columns = {types}, header = true, auto_detect = false,
                          delim = ',', quote = '"', escape = '"', filename = true,
                          store_rejects = true, rejects_table = '_csv_rejects_{number}',
                          rejects_scan = '_csv_scans_{number}') with ordinality as c
            join _files as f on c.filename = f.filename"""
        )
    return "(" + "\n            union all".join(scans) + "\n    )"


def _read_csv(
    conn: duckdb.DuckDBPyConnection,
    header: tuple[str, ...],
    group: list[SourceFolder],
    loaded_at: datetime,
) -> list[SourceFolder]:
    """Load one group of files sharing a header; the files DuckDB could not read cleanly.

    One pass types the rows into raw.figures. Only a file with fewer typed rows than lines is
    read a second time, for the rows that cannot be typed (an empty field, a value '1000亿').
    """
    _insert(conn, _csv_rows(conn, header, group), loaded_at)
    bad = _rejected_files(conn)
    typed = _rows_by_source(conn, "raw.figures", group)
    short = [f for f in group if typed.get(f.source_id, 0) < f.records and f.source_id not in bad]
    if short:
        _insert(conn, _csv_rows(conn, header, short), loaded_at, typed=False)
        bad |= _rejected_files(conn)
    untyped = _rows_by_source(conn, UNPARSED, short)
    conn.unregister("_files")
    return [
        f
        for f in group
        if f.source_id in bad
        or typed.get(f.source_id, 0) + untyped.get(f.source_id, 0) != f.records
    ]


def _rejected_files(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """Sources whose figures.csv has lines the last read_csv could not parse."""
    present = {
        name
        for (name,) in conn.execute(
            "select table_name from duckdb_tables() where table_name like '\\_csv\\_rejects\\_%' "
            "escape '\\'"
        ).fetchall()
    }
    scans = [
        f"select distinct f.source_id from _csv_rejects_{n} r join _csv_scans_{n} s "
        "using (scan_id, file_id) join _files f on f.filename = s.file_path"
        for n in range(MAX_SCANS)
        if f"_csv_rejects_{n}" in present
    ]
    if not scans:
        return set()
    return {source_id for (source_id,) in conn.execute(" union ".join(scans)).fetchall()}


def _rows_by_source(
    conn: duckdb.DuckDBPyConnection, table: str, folders: list[SourceFolder]
) -> dict[str, int]:
    if not folders:
        return {}
    return dict(
        conn.execute(
            f"select source_id, count(*) from {table} where source_id in (select unnest(?)) "
            "group by source_id",
            [[f.source_id for f in folders]],
        ).fetchall()
    )


def _sharing_ids(
    conn: duckdb.DuckDBPyConnection, changed: list[SourceFolder], others: list[SourceFolder]
) -> list[SourceFolder]:
    """Unchanged sources that hold (or were refused) an id a touched source holds or held."""
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
                "others": [f.source_id for f in others],
            },
        ).fetchall()
    }
    return [f for f in others if f.source_id in sharing]


def _loaded_as_text(where: str = "") -> str:
    """SQL: raw.figures in the layout the checks read (typed columns as v, start_day, end_day)."""
    plain = [c for c in STAGED_COLUMNS if c not in TYPED]
    return (
        f"select {', '.join(plain)}, null::varchar as value, null::varchar as period_start, "
        "null::varchar as period_end, value as v, period_start as start_day, "
        f"period_end as end_day from raw.figures {where}"
    )


def _incoming_view(
    conn: duckdb.DuckDBPyConnection, reload: list[SourceFolder], everything: bool
) -> None:
    """The rows of this load, loaded or not, as the checks read them."""
    conn.execute(
        "create or replace temp table _reload as select unnest(?) as source_id",
        [[f.source_id for f in reload]],
    )
    where = "" if everything else "where source_id in (select source_id from _reload)"
    conn.execute(
        f"""
        create or replace temp view {INCOMING} as
        {_loaded_as_text(where)}
        union all by name
        select *, {typed_from_text("value")} as v, {typed_from_text("period_start")} as start_day,
               {typed_from_text("period_end")} as end_day
        from {UNPARSED}
        """
    )


def _check(
    conn: duckdb.DuckDBPyConnection,
    folders: list[SourceFolder],
    report: LoadReport,
    relation: str,
    settled: bool = False,
) -> pd.DataFrame:
    """Every row of the relation that breaks the contract, with its reason (the rest loads).

    The relation has the figure columns as VARCHAR, the lineage, and `v`, `start_day`,
    `end_day` typed (see `_loaded_as_text`). For rows a load has `settled`, the costly rules
    that only a row's own text decides (the quote states the value, free text holds no control
    character) are skipped: the table cannot change them, the seeds neither.
    """
    quotes = not settled
    texts = pd.DataFrame(
        [(f.source_id, f.text.zh, f.text.en, f.text.path.name) for f in folders if f.text],
        columns=["source_id", "text_zh", "text_en", "text_name"],
    ).astype(object)
    conn.register("_texts", texts)
    # Ids held by more than one row: the earliest source (in folder order) owns each of them.
    conn.execute(
        f"""
        create or replace temp table _duplicate_ids as
        with candidates as (
            select hash(figure_id) as h from {relation}
            where figure_id is not null group by h having count(*) > 1
        ),
        counted as (
            select figure_id, min(source_id) as owner from {relation}
            where hash(figure_id) in (select h from candidates)
            group by figure_id having count(*) > 1
        )
        select d.figure_id, d.owner, min(s.source_row) as owner_line,
               count(*) > 1 as repeated_in_owner
        from {relation} s join counted d on s.figure_id = d.figure_id and s.source_id = d.owner
        group by all
        """
    )
    en_needed = "quote_en is not null and translation_discrepancy is distinct from 'value'"
    columns, whole_rows = column_rules(controls=not settled), row_rules()
    flagged = conn.execute(
        f"""
        with typed as (
            select s.*, d.owner, d.owner_line,
                   coalesce(s.source_id = d.owner and d.repeated_in_owner, false)
                       as duplicate_in_source
            from {relation} s left join _duplicate_ids d on s.figure_id = d.figure_id
        ),
        marked as (select *, {passes(columns)} as columns_ok from typed),
        tokens as (
            select *,
                case when columns_ok then {passes(whole_rows)} end as rows_ok,
                case when columns_ok then {quote_text("quote_zh", "zh")} end as zh_text,
                case when columns_ok then {quote_token("zh")} end as zh_token,
                case when columns_ok and {en_needed} then quote_en end as en_text,
                case when columns_ok and {en_needed} then {quote_token("en")} end as en_token
            from marked
        ),
        confirmed as (
            select *,
                {quote_confirmed("zh_text", "zh_token", "zh") if quotes else "true"}
                    as zh_confirmed,
                case when en_text is not null
                     then {quote_confirmed("en_text", "en_token", "en") if quotes else "true"}
                end as en_confirmed
            from tokens
        )
        select r.source_id, r.source_file, r.source_row, r.figure_id, r.owner, r.owner_line,
               {problems(columns)} as column_problems,
               case when r.columns_ok then {problems(whole_rows)} end as row_problems,
               r.zh_confirmed, r.en_confirmed, r.quote_zh, r.quote_en, r.v, r.unit,
               {VALUE_TEXT} as value,
               t.text_name,
               t.source_id is not null and not contains(t.text_zh, r.quote_zh) as zh_not_in_text,
               t.source_id is not null and r.quote_en is not null
                   and not contains(t.text_en, r.quote_en) as en_not_in_text
        from confirmed r left join _texts t on r.source_id = t.source_id
        where (r.owner is not null and r.source_id != r.owner)
           or not r.columns_ok or not r.rows_ok
           or not r.zh_confirmed or r.en_confirmed = false
           or (t.source_id is not null and (not contains(t.text_zh, r.quote_zh)
               or (r.quote_en is not null and not contains(t.text_en, r.quote_en))))
        """
    ).df()
    conn.unregister("_texts")
    conn.execute("drop table if exists _duplicate_ids")
    rows = []
    texts = {f.source_id: f.text for f in folders if f.text}
    for row in flagged.itertuples(index=False):
        broken = _problems(row, report, texts)
        if broken:
            rows.append(
                {
                    "source_id": row.source_id,
                    "source_file": row.source_file,
                    "source_row": int(row.source_row),
                    "figure_id": row.figure_id,
                    "column_name": broken[0][0],
                    "reason": f"{row.source_file} line {row.source_row}: "
                    + "; ".join(message for _, message in broken),
                }
            )
    return pd.DataFrame(
        rows,
        columns=["source_id", "source_file", "source_row", "figure_id", "column_name", "reason"],
    )


def audit_figures(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Loaded figures that break the contract now (none, unless the table or the seeds moved).

    The same SQL as the load over raw.figures as stored, every rule but the quotes and the
    search for control characters (the costly ones, which the load settled row by row and the
    seeds cannot change; the asset check re-runs them with pandera on a sample): what the asset
    check reports.
    """
    ensure_raw_schema(conn)
    conn.execute(MACROS)
    conn.execute(f"create or replace temp view _loaded_figures as {_loaded_as_text()}")
    try:
        return _check(conn, [], LoadReport(counts={}), "_loaded_figures", settled=True)
    finally:
        conn.execute("drop view if exists _loaded_figures")


def _problems(row, report: LoadReport, texts: dict) -> list[tuple[str | None, str]]:
    """(column, message) problems of one flagged row, in the order pandera would give them."""
    if isinstance(row.owner, str) and row.source_id != row.owner:
        return [
            (
                "figure_id",
                f"figure_id {row.figure_id!r} is already used by raw/{row.owner}/figures.csv "
                f"line {int(row.owner_line)}: ids must be unique across sources",
            )
        ]
    problems = [(p["column_name"], p["message"]) for p in _listed(row.column_problems)]
    if problems:
        return problems
    problems = [(p["column_name"], p["message"]) for p in _listed(row.row_problems)]
    value = float(row.v)
    shown = {"figure_id": row.figure_id, "quote_zh": row.quote_zh,
             "quote_en": _none(row.quote_en), "value": row.value, "unit": row.unit}  # fmt: skip
    for language, confirmed, quote in (
        ("zh", row.zh_confirmed, row.quote_zh),
        ("en", row.en_confirmed, row.quote_en),
    ):
        if not _is_false(confirmed):
            continue
        if supporting_mention(quote, language, value, row.unit) is not None:
            report.python_confirmed_quotes += 1
            continue
        # the pandera model's own words (orchestration/schemas/validation.py)
        problems.append((None, ROW_CHECK_MESSAGES[f"quote_{language}_states_value"](shown)))
    if problems:
        return problems
    figure = f"figure {row.figure_id}: "
    for column, quote, missing in (
        ("quote_zh", row.quote_zh, row.zh_not_in_text),
        ("quote_en", row.quote_en, row.en_not_in_text),
    ):
        if missing is True:
            part = texts[row.source_id].part(column[-2:])
            message = quote_not_in_text(column, quote, part, row.text_name)
            problems.append((column, figure + message))
    return problems


def _listed(value: object) -> list:
    return [] if value is None or (isinstance(value, float) and pd.isna(value)) else list(value)


def _is_false(value: object) -> bool:
    """A SQL boolean as read back: False, not True and not NULL."""
    return value is not None and not pd.isna(value) and not bool(value)


def _none(value: object) -> object:
    return value if isinstance(value, str) and value != "" else None


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
