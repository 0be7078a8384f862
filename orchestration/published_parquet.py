"""The Parquet files of a published build: a folder per mart, a file per part of it.

  parquet/<mart>/<part>.parquet   (and <part>+1.parquet, ... when DuckDB splits a large part)

The marts written row by row in the DuckDB copy (orchestration/published_copy.py) are split in
parts that follow where changes land, so that a build rewrites only the parts a change touched:

- `figures`: a part per source (`source_id`);
- `business_series`, `businesses`, `company_segments`, `derived_figures`: a part per source too,
  the source whose id comes first among those stating the business line (every row of a line is
  in one part); in `derived_figures` the figures computed across lines, which every build writes
  again, are a part of their own (`+across-lines`).

Every other mart is one file, `parquet/<mart>/<mart>.parquet`, written by every build. Readers
read a mart as `parquet/<mart>/*.parquet`.

When the DuckDB copy was written from the previous build, so are these files: a part whose rows
did not change is a hard link to the previous build's file (the same bytes, never rewritten:
published files are read-only), and only the parts holding a changed row, a new row or a row that
left are written. A part's rows changed when the previous build's files hold a row the DuckDB
copy deletes, or the warehouse holds a row it inserts (the same conditions, published_copy.py).
Each file carries the id of the build that wrote it (`build_id` in its key-value metadata), and
build.json lists every file with its part, its rows and that id. The rows of each mart are
counted against the warehouse before the build is kept; on a mismatch the mart is written again
in full.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.published_copy import (
    CHANGED_FIGURES,
    FIGURES,
    changed_rows,
    derivations_across_lines,
    quote,
)
from orchestration.snapshots import PARQUET_DIR, Build

# The part of the figures computed across lines: not a source id (ids never contain "+").
ACROSS_LINES = "+across-lines"
SPLIT = "+"
# The part of a line, for the marts by business line: the first id among its sources.
LINE_PARTS = "published_line_parts"
PARTS = "published_parts"


def part_of(table: str) -> tuple[str, str] | None:
    """(joins, expression) giving each row of marts.<table> (alias m) its part; None when the
    mart is one file."""
    if table == FIGURES:
        return "", "m.source_id"
    line = f"left join {LINE_PARTS} l on l.business_id = m.business_id"
    if table in ("business_series", "businesses", "company_segments"):
        return line, "coalesce(l.part, '+no-source')"
    if table == "derived_figures":
        across = ", ".join(quote(d) for d in derivations_across_lines())
        return (
            line,
            f"case when m.derivation in ({across}) then {quote(ACROSS_LINES)} "
            "else coalesce(l.part, '+no-source') end",
        )
    return None


def stale_rows(table: str) -> str:
    """The rows of a previous build's files that this build replaces or drops."""
    if table == FIGURES:
        return (
            f"figure_id in {CHANGED_FIGURES} "
            f"or figure_id not in (select figure_id from marts.{FIGURES})"
        )
    return changed_rows(table)


def new_rows(table: str) -> str:
    """The rows of marts.<table> (alias m) this build wrote since the previous one."""
    if table == FIGURES:
        return f"m.figure_id in {CHANGED_FIGURES}"
    return changed_rows(table, alias="m")


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


def _write_parts(conn, folder: Path, table: str, parts: list[str], build_id: str) -> list[dict]:
    """Write the rows of `parts` of marts.<table> into `folder`, a file (or more) per part."""
    if not parts:
        return []
    joins, expression = part_of(table)
    conn.execute(f"create or replace temp table {PARTS} (part varchar, idx integer)")
    conn.executemany(f"insert into {PARTS} values (?, ?)", [[p, i] for i, p in enumerate(parts)])
    staging = folder / f".{table}.writing"
    conn.execute(
        f"copy (select m.*, w.idx as __part from marts.{table} m {joins} "
        f"join {PARTS} w on w.part = {expression}) to {quote(str(staging))} "
        f"(format parquet, partition_by (__part), {_metadata(build_id)}, "
        "filename_pattern 'data_{i}')"
    )
    produced = [
        (path, part, k)
        for index, part in enumerate(parts)
        for k, path in enumerate(sorted((staging / f"__part={index}").glob("*.parquet")))
    ]
    written = [(path.rename(folder / file_name(part, k)), part) for path, part, k in produced]
    shutil.rmtree(staging)
    counts = _row_counts(conn, [path for path, _ in written])
    return [
        {"file": path.name, "partition": part, "build_id": build_id, "rows": counts[path.name]}
        for path, part in written
    ]


def _all_parts(conn, table: str) -> list[str]:
    joins, expression = part_of(table)
    return sorted(
        part
        for (part,) in conn.execute(
            f"select distinct {expression} from marts.{table} m {joins}"
        ).fetchall()
    )


def _parts_to_write(conn, table: str, previous: Build, since: str, every: list[str]) -> set[str]:
    """The parts of marts.<table> whose previous files cannot be kept: parts with a changed,
    new or dropped row, and parts the previous build did not have."""
    files = previous.parquet.get(table) or []
    had = {f["partition"] for f in files}
    folder = previous.folder / PARQUET_DIR / table
    paths = ", ".join(quote(str(folder / f["file"])) for f in files)
    stale: set[str] = set()
    if files:
        part_by_file = {str(folder / f["file"]): f["partition"] for f in files}
        # the stale predicate repeats the `since` parameter once per changed-rows subquery
        predicate = stale_rows(table)
        rows = conn.execute(
            f"select distinct filename from read_parquet([{paths}], filename = true) "
            f"where {predicate}",
            [since] * predicate.count("?"),
        ).fetchall()
        stale = {part_by_file[name] for (name,) in rows}
    joins, expression = part_of(table)
    predicate = new_rows(table)
    touched = {
        part
        for (part,) in conn.execute(
            f"select distinct {expression} from marts.{table} m {joins} where {predicate}",
            [since] * predicate.count("?"),
        ).fetchall()
    }
    return stale | touched | (set(every) - had)


def _link(previous: Build, table: str, folder: Path, keep: set[str]) -> list[dict]:
    kept = []
    source = previous.folder / PARQUET_DIR / table
    for entry in previous.parquet.get(table) or []:
        if entry["partition"] not in keep:
            continue
        try:
            os.link(source / entry["file"], folder / entry["file"])
        except OSError:  # no hard links on this file system: a copy of the bytes
            shutil.copyfile(source / entry["file"], folder / entry["file"])
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
        f"create or replace temp table {LINE_PARTS} as select business_id, min(source_id) "
        f"as part from marts.{FIGURES} group by business_id"
    )
    manifest: dict[str, list[dict]] = {}
    written = linked = 0
    try:
        for table in tables:
            folder = target / table
            folder.mkdir(parents=True)
            if part_of(table) is None:
                manifest[table] = _write_one(conn, folder, table, build_id)
            else:
                every = _all_parts(conn, table)
                write = set(every)
                if previous is not None:
                    write = _parts_to_write(conn, table, previous, since, every) & write
                files = _link(previous, table, folder, set(every) - write) if previous else []
                files += _write_parts(conn, folder, table, sorted(write), build_id)
                expected = conn.execute(f"select count(*) from marts.{table}").fetchall()[0][0]
                if sum(f["rows"] for f in files) != expected:
                    shutil.rmtree(folder)
                    folder.mkdir()
                    files = _write_parts(conn, folder, table, every, build_id)
                manifest[table] = sorted(files, key=lambda f: f["file"])
            written += sum(f["build_id"] == build_id for f in manifest[table])
            linked += sum(f["build_id"] != build_id for f in manifest[table])
            pause()
    finally:
        conn.execute(f"drop table if exists {LINE_PARTS}")
        conn.execute(f"drop table if exists {PARTS}")
    return manifest, f"{written} files written, {linked} kept from earlier builds"
