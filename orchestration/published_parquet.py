"""The Parquet files of a published build: a folder per mart, a file per part of it.

  parquet/<mart>/<part>.parquet   (and <part>+1.parquet, ... when DuckDB splits a large part)

The marts written row by row in the DuckDB copy (orchestration/published_copy.py) are split in
parts that follow where changes land, so that a build rewrites only the parts a change touched:

- `figures`: by source, the sources spread over 64 parts (`part-00` to `part-63`, from the md5
  of the source id: a source stays in its part from build to build);
- `business_series`, `businesses`, `company_segments`, `derived_figures`: by business line, a
  line in the part of the first (by id) of the sources stating it, so a new source's lines land
  in its own part; the derived figures computed across lines, which every build writes again,
  are a part of their own (`across-lines`), and lines no figure states another (`no-source`).

Every other mart is one file, `parquet/<mart>/<mart>.parquet`, written by every build. Readers
read a mart as `parquet/<mart>/*.parquet`.

When the DuckDB copy was written from the previous build, so are these files: a part is the
previous build's file, hard-linked (the same bytes, never rewritten: published files are
read-only), unless

- (`figures`) it holds a row this build wrote (the rows the copy inserts, published_copy.py) or
  its number of rows changed. That is exact: a row that is not new keeps its part (a figure's
  source changes only with rows that are new), so an unchanged part can only have lost rows,
  which its count shows. Such a part is written from the previous file's rows whose figure is
  still in the mart and was not written since, and from the rows written since: the step never
  reads the whole mart;
- (the marts by line) it holds a line this build changed (int_changed_business_lines), in the
  previous build's files or now. Such a part is written from the previous file's rows of the
  other lines (a line's rows change only when the line does) and the changed lines' rows from
  the warehouse, so the step never reads a whole mart by line, nor maps every line to its part.

Each file carries the id of the build that wrote it (`build_id` in its key-value metadata), and
build.json lists every file with its part, its rows and that id. Each mart's rows are counted
against the warehouse before the build is kept; on a mismatch the mart is written again in full.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.published_copy import (
    CHANGED_FIGURES,
    CHANGED_LINES,
    FIGURES,
    current_database,
    derivations_across_lines,
    mart_columns,
    mart_rows,
    quote,
    still_in_mart,
)
from orchestration.snapshots import PARQUET_DIR, Build

PARTS_BY_SOURCE = 64
ACROSS_LINES = "across-lines"
NO_SOURCE = "no-source"
# Between a part's name and the number of a further file of it (part names have no "+").
SPLIT = "+"
# Temporary tables of the step's connection: each source's part, each line's part, and the
# parts a COPY writes.
SOURCE_PARTS = "published_source_parts"
LINE_PARTS = "published_line_parts"
WRITING = "published_parts_written"
# ... and, when the marts by line are brought up to date from the previous build, the lines this
# build changed (with their parts now) and the previous build's files that are read.
CHANGED = "published_changed_lines"
FILES = "published_files_read"
# ... and a mart's rows of those lines, each with its line's part, read once from the warehouse
LINE_ROWS = "published_line_rows"
LINE_PART = "__line_part"
BY_LINE = ("business_series", "businesses", "company_segments")


def source_part(column: str) -> str:
    """The part of a source id: one of PARTS_BY_SOURCE, from its md5 (stable everywhere)."""
    bucket = f"('0x' || left(md5({column}), 8))::bigint % {PARTS_BY_SOURCE}"
    return f"'part-' || lpad(({bucket})::varchar, 2, '0')"


def part_of(table: str) -> tuple[str, str] | None:
    """(joins, expression) giving each row of marts.<table> (alias m) its part; None when the
    mart is one file."""
    if table == FIGURES:
        return f"join {SOURCE_PARTS} s on s.source_id = m.source_id", "s.part"
    line = f"left join {LINE_PARTS} l on l.business_id = m.business_id"
    if table in BY_LINE:
        return line, f"coalesce(l.part, {quote(NO_SOURCE)})"
    if table == "derived_figures":
        return (
            line,
            f"case when {_across()} then {quote(ACROSS_LINES)} "
            f"else coalesce(l.part, {quote(NO_SOURCE)}) end",
        )
    return None


def _across() -> str:
    """Whether a row of marts.derived_figures (alias m) is computed across lines."""
    across = ", ".join(quote(d) for d in derivations_across_lines())
    return f"coalesce(m.derivation in ({across}), false)"


def file_name(part: str, index: int) -> str:
    return f"{part}.parquet" if index == 0 else f"{part}{SPLIT}{index}.parquet"


def _metadata(build_id: str) -> str:
    return f"kv_metadata {{build_id: {quote(build_id)}}}"


def _row_counts(conn, files: list[Path]) -> dict[str, int]:
    if not files:
        return {}
    listed = ", ".join(quote(str(f)) for f in files)
    return {
        Path(name).name: rows
        for name, rows in conn.execute(
            f"select file_name, num_rows from parquet_file_metadata([{listed}])"
        ).fetchall()
    }


def _write_one(conn, folder: Path, table: str, build_id: str) -> list[dict]:
    target = folder / f"{table}.parquet"
    conn.execute(
        f"copy (select * from marts.{table}) to {quote(str(target))} "
        f"(format parquet, {_metadata(build_id)})"
    )
    rows = _row_counts(conn, [target])[target.name]
    return [{"file": target.name, "partition": table, "build_id": build_id, "rows": rows}]


def _copy_parts(
    conn,
    folder: Path,
    table: str,
    parts: list[str],
    rows: str,
    build_id: str,
    parameters: list | None = None,
) -> list[dict]:
    """Write `rows` (a query of marts.<table>'s columns and `__part`, the index of a row's part
    in `parts`, with `parameters`) into `folder`, a file (or more) per part."""
    writing = folder / f".{table}.writing"
    conn.execute(
        f"copy ({rows}) to {quote(str(writing))} "
        f"(format parquet, partition_by (__part), {_metadata(build_id)}, "
        "filename_pattern 'data_{i}')",
        parameters or [],
    )
    produced = [
        (path, part, k)
        for index, part in enumerate(parts)
        for k, path in enumerate(sorted((writing / f"__part={index}").glob("*.parquet")))
    ]
    written = [(path.rename(folder / file_name(part, k)), part) for path, part, k in produced]
    shutil.rmtree(writing)
    counts = _row_counts(conn, [path for path, _ in written])
    return [
        {"file": path.name, "partition": part, "build_id": build_id, "rows": counts[path.name]}
        for path, part in written
    ]


def _writing(conn, parts: list[str]) -> None:
    conn.execute(f"create or replace temp table {WRITING} (part varchar, idx integer)")
    conn.executemany(f"insert into {WRITING} values (?, ?)", [[p, i] for i, p in enumerate(parts)])


def _write_parts(conn, folder: Path, table: str, parts: list[str], build_id: str) -> list[dict]:
    """Write the rows of `parts` of marts.<table> into `folder`, from the warehouse."""
    if not parts:
        return []
    if table != FIGURES:
        _line_parts(conn)
    joins, expression = part_of(table)
    _writing(conn, parts)
    rows = (
        f"select m.*, w.idx as __part from marts.{table} m {joins} "
        f"join {WRITING} w on w.part = {expression}"
    )
    return _copy_parts(conn, folder, table, parts, rows, build_id)


def _line_parts(conn) -> None:
    """Each business line's part, for every line (a scan of every figure): what a mart by line
    written from the warehouse needs."""
    if conn.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = ?", [LINE_PARTS]
    ).fetchall()[0][0]:
        return
    conn.execute(
        f"create temp table {LINE_PARTS} as select f.business_id, s.part "
        f"from (select business_id, min(source_id) as source_id from marts.{FIGURES} "
        f"group by business_id) f join {SOURCE_PARTS} s using (source_id)"
    )


def _changed_lines(conn, since: str) -> None:
    """The lines this build changed, each with its part now (the same rule as _line_parts,
    for these lines only)."""
    conn.execute(
        f"create or replace temp table {CHANGED} as "
        f"select c.business_id, coalesce({source_part('f.source_id')}, {quote(NO_SOURCE)}) as part "
        f"from (select distinct business_id from {CHANGED_LINES} l "
        "where business_id is not null) c "
        f"left join (select business_id, min(source_id) as source_id from marts.{FIGURES} "
        f"where business_id in {CHANGED_LINES} group by business_id) f using (business_id)",
        [since, since],
    )


def _by_line_in_parts(previous: Build, table: str) -> bool:
    """Whether marts.<table> is a mart by line that the previous build wrote in parts (not as
    one file, as it writes an empty mart)."""
    return (
        table != FIGURES
        and part_of(table) is not None
        and all(e["partition"] != table for e in previous.parquet.get(table) or [])
    )


def _patch_by_line(
    conn, folder: Path, table: str, previous: Build, build_id: str
) -> list[dict] | None:
    """A mart by line brought up to date from the previous build's files: the parts holding a
    changed line, then or now, are written (their other lines' rows from the previous file, the
    changed lines' rows from the warehouse), the others kept. None when a previous file needed
    is gone."""
    source = previous.folder / PARQUET_DIR / table
    entries = previous.parquet[table]
    paths = {str(source / e["file"]): e["partition"] for e in entries}
    if not all(Path(path).is_file() for path in paths):
        return None
    listed = ", ".join(quote(path) for path in paths)
    changed = f"(select business_id from {CHANGED})"
    then = {
        paths[name]
        for (name,) in conn.execute(
            f"select distinct filename from read_parquet([{listed}], filename = true) "
            f"where business_id in {changed}"
        ).fetchall()
    }
    across = table == "derived_figures"
    # the changed lines' rows, read once: the parts they land in now, and rows of those parts
    conn.execute(
        f"create or replace temp table {LINE_ROWS} as select m.*, c.part as {LINE_PART} "
        f"from {mart_rows(table, f'business_id in {changed}')} m "
        f"join {CHANGED} c using (business_id)" + (f" where not {_across()}" if across else "")
    )
    now = {
        part for (part,) in conn.execute(f"select distinct {LINE_PART} from {LINE_ROWS}").fetchall()
    }
    parts = sorted(then | now | ({ACROSS_LINES} if across else set()))
    kept = _link(previous, table, folder, {e["partition"] for e in entries} - set(parts))
    if not parts:
        return kept
    _writing(conn, parts)
    columns = mart_columns(conn, current_database(conn), table)
    previous_columns = ", ".join(f'cast(p."{c}" as {t}) as "{c}"' for c, t in columns)
    files = [(path, part) for path, part in paths.items() if part in parts and part != ACROSS_LINES]
    rows = [
        f"select r.* exclude ({LINE_PART}), w.idx as __part from {LINE_ROWS} r "
        f"join {WRITING} w on w.part = r.{LINE_PART}"
    ]
    if files:
        _files_read(conn, files)
        rows.append(
            f"select {previous_columns}, w.idx as __part from read_parquet("
            f"[{', '.join(quote(path) for path, _ in files)}], filename = true) p "
            f"join {FILES} f on f.file = p.filename join {WRITING} w on w.part = f.part "
            f"where p.business_id is null or p.business_id not in {changed}"
        )
    if across:
        rows.append(
            f"select m.*, w.idx as __part from {mart_rows(table, _across())} m "
            f"join {WRITING} w on w.part = {quote(ACROSS_LINES)}"
        )
    return kept + _copy_parts(conn, folder, table, parts, " union all ".join(rows), build_id)


def _files_read(conn, files: list[tuple[str, str]]) -> None:
    conn.execute(f"create or replace temp table {FILES} (file varchar, part varchar)")
    conn.executemany(f"insert into {FILES} values (?, ?)", [list(f) for f in files])


def _patch_figures(
    conn, folder: Path, parts: list[str], previous: Build, since: str, build_id: str
) -> list[dict] | None:
    """Parts of marts.figures written from the previous build's file of each part and the rows
    this build wrote, so the step never reads the whole mart (a scan of every figure): a row of
    the previous file is kept when its figure is still in the mart and was not written since
    (then it is the same row: a figure changes only by being written again). None when a
    previous file needed is gone."""
    if not parts:
        return []
    source = previous.folder / PARQUET_DIR / FIGURES
    files = [
        (str(source / e["file"]), e["partition"])
        for e in previous.parquet[FIGURES]
        if e["partition"] in parts
    ]
    if not all(Path(path).is_file() for path, _ in files):
        return None
    _writing(conn, parts)
    joins, expression = part_of(FIGURES)
    rows = [
        f"select m.*, w.idx as __part from {mart_rows(FIGURES, f'figure_id in {CHANGED_FIGURES}')} "
        f"m {joins} join {WRITING} w on w.part = {expression}"
    ]
    parameters = [since]
    if files:
        _files_read(conn, files)
        columns = mart_columns(conn, current_database(conn), FIGURES)
        previous_columns = ", ".join(f'cast(p."{c}" as {t}) as "{c}"' for c, t in columns)
        rows.append(
            f"select {previous_columns}, w.idx as __part from read_parquet("
            f"[{', '.join(quote(path) for path, _ in files)}], filename = true) p "
            f"join {FILES} f on f.file = p.filename join {WRITING} w on w.part = f.part "
            f"where p.figure_id not in {CHANGED_FIGURES} "
            f"and {still_in_mart(f'(select source_id from {SOURCE_PARTS})')}"
        )
        parameters += [since] * 3
    return _copy_parts(conn, folder, FIGURES, parts, " union all ".join(rows), build_id, parameters)


def _rows_by_part(conn, table: str) -> dict[str, int]:
    if table != FIGURES:
        _line_parts(conn)
    joins, expression = part_of(table)
    return dict(
        conn.execute(
            f"select {expression}, count(*) from marts.{table} m {joins} group by 1"
        ).fetchall()
    )


def _figures_to_write(conn, previous: Build, since: str, rows: dict[str, int]) -> set:
    """The parts of marts.figures the previous build's files cannot stand for: those holding a
    row this build wrote, and those whose count of rows changed (or that it did not have)."""
    joins, expression = part_of(FIGURES)
    touched = {
        part
        for (part,) in conn.execute(
            f"select distinct {expression} from marts.{FIGURES} m {joins} "
            f"where m.figure_id in {CHANGED_FIGURES}",
            [since],
        ).fetchall()
    }
    had: dict[str, int] = {}
    for entry in previous.parquet.get(FIGURES) or []:
        had[entry["partition"]] = had.get(entry["partition"], 0) + entry["rows"]
    return touched | {part for part, count in rows.items() if had.get(part) != count}


def _link(previous: Build, table: str, folder: Path, keep: set[str]) -> list[dict]:
    kept = []
    source = previous.folder / PARQUET_DIR / table
    for entry in previous.parquet.get(table) or []:
        if entry["partition"] not in keep:
            continue
        try:
            try:
                os.link(source / entry["file"], folder / entry["file"])
            except OSError:  # no hard links on this file system: a copy of the bytes
                shutil.copyfile(source / entry["file"], folder / entry["file"])
        except OSError:
            continue  # gone from the previous build: the count of rows sends the mart in full
        kept.append(dict(entry))
    return kept


def write_parquet(
    conn,
    target: Path,
    tables: list[str],
    build_id: str,
    previous: Build | None,
    pause=lambda: None,
) -> tuple[dict[str, list[dict]], str]:
    """Write the Parquet files of `tables` under `target` (the build's parquet/ folder), from
    `previous` when it is given (its DuckDB copy was brought up to date, so the same rows
    changed): ({mart: files}, how they were written)."""
    since = previous.figures_built_at if previous else ""
    if previous and not all(previous.parquet.get(t) for t in tables if part_of(t)):
        previous = None  # a build of the layout before parts: nothing to keep
    conn.execute(
        f"create or replace temp table {SOURCE_PARTS} as select source_id, "
        f"{source_part('source_id')} as part from (select distinct source_id from marts.{FIGURES})"
    )
    if previous is not None:
        _changed_lines(conn, since)
    # How many rows of a part DuckDB buffers before writing them out: far fewer than its
    # default, which made writing a large mart in parts much slower (benchmarks/RESULTS.md,
    # "Parquet in parts")
    conn.execute("set partitioned_write_flush_threshold = 16384")
    manifest: dict[str, list[dict]] = {}
    written = linked = 0
    in_full: list[str] = []  # marts whose kept and written parts did not add up
    try:
        for table in tables:
            folder = target / table
            folder.mkdir(parents=True)
            expected = conn.execute(f"select count(*) from marts.{table}").fetchall()[0][0]
            files = None
            if previous is not None and _by_line_in_parts(previous, table) and expected:
                files = _patch_by_line(conn, folder, table, previous, build_id)
                if files is None:  # a previous file gone
                    in_full.append(table)
                    shutil.rmtree(folder)
                    folder.mkdir()
            if files is None:
                rows = _rows_by_part(conn, table) if part_of(table) and expected else {}
                if not rows:  # one file; for an empty mart, its columns (a glob must find one)
                    files = _write_one(conn, folder, table, build_id)
                else:
                    write = set(rows)
                    patched = None
                    if previous is not None and table == FIGURES:
                        write &= _figures_to_write(conn, previous, since, rows)
                        patched = _patch_figures(
                            conn, folder, sorted(write), previous, since, build_id
                        )
                    files = _link(previous, table, folder, set(rows) - write) if previous else []
                    if patched is None:
                        patched = _write_parts(conn, folder, table, sorted(write), build_id)
                    files += patched
            if part_of(table) and sum(f["rows"] for f in files) != expected:
                in_full.append(table)
                shutil.rmtree(folder)
                folder.mkdir()
                files = _write_parts(
                    conn, folder, table, sorted(_rows_by_part(conn, table)), build_id
                )
            manifest[table] = sorted(files, key=lambda f: f["file"])
            written += sum(f["build_id"] == build_id for f in manifest[table])
            linked += sum(f["build_id"] != build_id for f in manifest[table])
            pause()
    finally:
        for temporary in (SOURCE_PARTS, LINE_PARTS, WRITING, CHANGED, FILES, LINE_ROWS):
            conn.execute(f"drop table if exists {temporary}")
        conn.execute("reset partitioned_write_flush_threshold")
    how = f"{written} files written, {linked} kept from earlier builds"
    if in_full:
        how += f"; written again in full, their parts not adding up: {', '.join(in_full)}"
    return manifest, how
