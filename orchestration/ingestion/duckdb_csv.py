"""figures.csv files read by DuckDB's read_csv into raw.figures: the fast path of a load.

Files that share a header are read by one `read_csv`, all VARCHAR, with `WITH ORDINALITY` for
the line number (the header is line 1). A row whose value, dates or required fields can be
typed goes straight into raw.figures; the others wait in the unparsed table until the contract
check (`contract_check.py`) gives them their reason. A file that is not one record per line,
or that DuckDB cannot parse, is read by Python instead (`python_csv.py`), which says exactly
what is wrong with each line.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb
import pandas as pd

from orchestration.ingestion.raw_files import SourceFolder
from orchestration.ingestion.raw_tables import TYPED, UNPARSED, WORKING_COLUMNS, LoadReport
from orchestration.schemas.contract_sql import literal, typed_from_text
from orchestration.schemas.figures import COLUMNS, REQUIRED_COLUMNS

# At most this many parallel scans of figures.csv files (see `_csv_rows`).
MAX_SCANS = 16
CSV_REJECTS = "; ".join(
    f"drop table if exists _csv_rejects_{n}; drop table if exists _csv_scans_{n}"
    for n in range(MAX_SCANS)
)


def insert_figures(
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
        frame = pd.DataFrame(rows, columns=list(WORKING_COLUMNS)).astype(
            {c: object for c in WORKING_COLUMNS if c != "source_row"}
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
    """SQL over `_typed` rows: a working-table row can be typed into raw.figures (it may still
    break a rule).

    A value too large for a double (a plain decimal of 400 digits) stays aside too: typed, it
    would read `inf`, and its rejection must show the value as written.
    """
    required = [f"{c} is not null" for c in REQUIRED_COLUMNS if c not in TYPED]
    typed = [f"_{c}_typed is not null" for c in TYPED]
    return " and ".join([*required, *typed, "isfinite(_value_typed)"])


def _insert(
    conn: duckdb.DuckDBPyConnection, rows: str, loaded_at: datetime, typed: bool = True
) -> None:
    """Rows (working-table layout, all VARCHAR) into raw.figures, or aside if they cannot be
    typed."""
    if not typed:
        columns = ", ".join(WORKING_COLUMNS)
        conn.execute(
            f"insert into {UNPARSED} by name select {columns} from {_typed(rows)} "
            f"where not ({_loadable()})"
        )
        return
    columns = ", ".join(f"_{c}_typed as {c}" if c in TYPED else c for c in WORKING_COLUMNS)
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
