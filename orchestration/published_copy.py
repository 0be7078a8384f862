"""The DuckDB file of a published build: every mart, the rejected rows and the build's record.

Written in a storage format duckdb 1.x reads (orchestration/publish.py chooses it), in one of
two ways:

- in full: every table copied from the warehouse into a new file;
- from an earlier build: its file, the other marts replaced, and only the rows that changed
  since that build deleted and written again: in `marts.figures` the figures whose
  `int_figures_joined.built_at` (the dbt invocation that last wrote each:
  dbt_project/models/intermediate/int_figures_joined.sql) is later than the time the earlier
  build recorded, and the figures that left the warehouse; in the marts built by business line,
  the rows of the lines `int_changed_business_lines` lists since that time (and the derived
  figures computed across lines).
  DuckDB keeps the storage format of a file it opens, so the copy stays readable by duckdb 1.x.

  The earlier build is, when there is one, the build this publish retires (the oldest of the
  builds kept for readers, orchestration/snapshots.py: `retiring_build`): its file is moved into
  the new build, not copied, unless a reader still holds it (DuckDB's lock on the file says so),
  and the rows that changed since are those of every build after it. Otherwise it is the
  previous build, whose file is copied (a file copy, whatever its size, written and
  flushed to disk), by the dbt step while dbt builds when the run could
  tell it would need one (orchestration/copy_ahead.py), else here.

The second way is taken when the earlier build is complete, in the same storage format, with
the same columns, and the changed rows are at most a quarter of the figures; and its result is
checked (the row count of every table) before it is kept, else the copy is written in full.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import yaml

from orchestration.paths import DBT_PROJECT_DIR
from orchestration.snapshots import Build

# Beside the marts, the copy holds what readers need to trust them: the rejected rows (nothing
# is lost: what is not in the marts is here, with its reason) and the build it comes from.
EXTRA_TABLES = ("raw.figures_rejected",)
# The marts written row by row, with the rows that changed since a time; the others are
# replaced whole.
FIGURES = "figures"
CHANGED_FIGURES = (
    "(select figure_id from intermediate.int_figures_joined where built_at > ?::timestamp)"
)
BY_LINE = ("business_series", "businesses", "company_segments", "derived_figures")
CHANGED_LINES = (
    "(select business_id from intermediate.int_changed_business_lines "
    "where built_at > ?::timestamp)"
)
PATCHED = (FIGURES, *BY_LINE)


@functools.cache
def derivations_across_lines() -> tuple[str, ...]:
    """The derived figures computed across lines (dbt_project.yml, vars)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return tuple(project["vars"]["derivations_across_lines"])


def still_in_mart(sources: str) -> str:
    """Whether a figure of the previous build (a row with source_id and figure_id) is still in
    marts.figures, `sources` being the sources the mart holds. A figure leaves only with its
    source, or when its source is loaded again (this build wrote rows of it): only those
    sources' figures are looked up, not every figure (four times faster at ten million figures:
    benchmarks/RESULTS.md). Parameters: the earlier build's figures_built_at, twice."""
    written = (
        "(select distinct source_id from intermediate.int_figures_joined "
        "where built_at > ?::timestamp)"
    )
    return (
        f"(source_id in {sources} and (source_id not in {written} or figure_id in "
        f"(select figure_id from marts.{FIGURES} where source_id in {written})))"
    )


def mart_rows(table: str, condition: str) -> str:
    """The rows of marts.<table> meeting `condition`, as a subquery: the condition's columns are
    scanned first, and the other columns read for the matching rows alone, by row id. A filter
    on a few rows of ten million reads every column of every row otherwise (benchmarks/RESULTS.md,
    "A build retired instead of a file copied")."""
    return (
        f"(select * from marts.{table} where rowid in "
        f"(select m.rowid from marts.{table} m where {condition}))"
    )


def changed_rows(table: str) -> str:
    """The rows of a mart by business line to write again: those of the changed lines, and in
    derived_figures those computed across lines, written again by every build."""
    lines = f"business_id in {CHANGED_LINES}"
    if table != "derived_figures":
        return lines
    across = ", ".join(quote(d) for d in derivations_across_lines())
    return f"({lines} or derivation in ({across}))"


# How write_published_copy wrote the copy.
FROM_RETIRING = "from a retired build's file"
FROM_PREVIOUS = "from the previous build"
FROM_PREVIOUS_AHEAD = "from the previous build, its file copied during the dbt step"
IN_FULL = "in full"
PATCHED_WAYS = (FROM_RETIRING, FROM_PREVIOUS, FROM_PREVIOUS_AHEAD)

# Beyond this share of changed figures, writing the copy anew is as quick as patching one.
MOST_CHANGED = 0.25


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mart_tables(conn, database: str | None = None) -> list[str]:
    where = (
        f"database_name = {quote(database)}" if database else "database_name = current_database()"
    )
    return [
        name
        for (name,) in conn.execute(
            f"select table_name from duckdb_tables() where {where} and schema_name = 'marts' "
            "order by 1"
        ).fetchall()
    ]


def figures_built_at(conn) -> str | None:
    """When the latest figures were written: what the next build compares against."""
    value = conn.execute("select max(built_at) from intermediate.int_figures_joined").fetchall()
    return str(value[0][0]) if value and value[0][0] is not None else None


def mart_columns(conn, database: str, table: str) -> list[tuple[str, str]]:
    """(name, type) of each column of <database>.marts.<table>, in order."""
    return conn.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? "
        "and schema_name = 'marts' and table_name = ? order by column_index",
        [database, table],
    ).fetchall()


def _copy_comments(conn) -> None:
    comments = conn.execute(
        "select table_name, comment from duckdb_tables() "
        "where database_name = current_database() and schema_name = 'marts' "
        "and comment is not null"
    ).fetchall()
    for table, comment in comments:
        conn.execute(f"comment on table published.marts.{table} is {quote(comment)}")
    column_comments = conn.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'marts' "
        "and comment is not null"
    ).fetchall()
    for table, column, comment in column_comments:
        conn.execute(f'comment on column published.marts.{table}."{column}" is {quote(comment)}')


def _write_records(conn, build: dict) -> None:
    """The rejected rows (dropped before, from a previous build's file) and the build's record."""
    for table in EXTRA_TABLES:
        schema = table.split(".")[0]
        conn.execute(f"create schema if not exists published.{schema}")
        conn.execute(f"create table published.{table} as select * from {table}")
    conn.execute("create schema if not exists published.meta")
    conn.execute(
        "create or replace table published.meta.build as select ?::varchar as build_id, "
        "?::varchar as run_id, ?::varchar as inputs_hash, ?::varchar as sources, "
        "?::timestamp as built_at",
        [
            build["build_id"],
            build["run_id"],
            build["inputs_hash"],
            json.dumps(build["sources"], sort_keys=True),
            build["built_at"],
        ],
    )
    conn.execute(
        "comment on table published.meta.build is 'The build these tables come from: its "
        "id (also in the Parquet files it wrote; build.json lists each file with its build), "
        "the Dagster run, and the hash of its inputs (raw/ folders, dbt project, code).'"
    )


def _counts(conn, tables: list[str]) -> dict[str, int]:
    return {
        table: conn.execute(f"select count(*) from published.marts.{table}").fetchall()[0][0]
        for table in tables
    }


def write_in_full(conn, target: Path, storage_version: str, build: dict) -> dict[str, int]:
    """Copy every marts table (rows and comments), the rejected rows and the build's record
    into a new DuckDB file at `target`."""
    tables = mart_tables(conn)
    target.unlink(missing_ok=True)
    conn.execute(
        f"attach {quote(str(target))} as published (storage_version {quote(storage_version)})"
    )
    try:
        conn.execute("create schema published.marts")
        for table in tables:
            conn.execute(f"create table published.marts.{table} as select * from marts.{table}")
        _copy_comments(conn)
        _write_records(conn, build)
        return _counts(conn, tables)
    finally:
        conn.execute("detach published")


def can_patch(conn, earlier: Build | None, storage_version: str) -> bool:
    """Whether `earlier` is a build this one can be written from (the module's rules)."""
    if earlier is None or not earlier.figures_built_at or not earlier.database.is_file():
        return False
    if earlier.storage_version != storage_version:
        return False
    changed = conn.execute(
        f"select count(*) from {CHANGED_FIGURES}", [earlier.figures_built_at]
    ).fetchall()[0][0]
    total = conn.execute(f"select count(*) from marts.{FIGURES}").fetchall()[0][0]
    return changed <= MOST_CHANGED * total


class NotPatched(Exception):
    """Why an earlier build's file could not become this build's copy (the copy is then written
    another way: write_published_copy)."""


def take_file(conn, retiring: Build, target: Path) -> None:
    """Move the database file of a build being retired to `target` and attach it as
    `published`, unless a reader holds it: then it is left where it was (NotPatched)."""
    source = retiring.database
    wal = source.with_name(source.name + ".wal")
    if wal.exists():  # a read-write session's changes are pending in it: not a build's file
        raise NotPatched(f"a read-write session left {wal.name} beside it")
    folder = source.parent
    try:
        folder.chmod(0o755)
        os.replace(source, target)
    except OSError as error:
        raise NotPatched(f"it could not be moved ({error.strerror})") from None
    os.chmod(target, 0o644)
    try:
        # DuckDB's lock on the file: a reader that opened it holds a shared lock until it
        # disconnects, and this attach then fails (the file itself is not touched).
        conn.execute(f"attach {quote(str(target))} as published")
    except duckdb.Error as error:
        os.chmod(target, 0o444)
        os.replace(target, source)
        folder.chmod(0o555)
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise NotPatched(f"a reader holds it open ({first})") from None


def write_from_earlier(
    conn,
    target: Path,
    earlier: Build,
    build: dict,
    retired: bool = False,
    copied: Path | None = None,
) -> dict[str, int]:
    """An earlier build's file brought up to date at `target`: the file of `earlier` copied
    (or its copy `copied`, made ahead: orchestration/copy_ahead.py, moved), or with `retired`,
    moved itself (take_file). NotPatched, saying why (and no file), when it cannot be: a reader
    holds the retired file, its columns differ, or a count disagrees."""
    tables = mart_tables(conn)
    target.unlink(missing_ok=True)
    if retired:
        take_file(conn, earlier, target)
    else:
        if copied is not None:
            os.replace(copied, target)
        else:
            shutil.copyfile(earlier.database, target)
        os.chmod(target, 0o644)
        conn.execute(f"attach {quote(str(target))} as published")
    counts = None
    try:
        here = current_database(conn)
        if any(mart_columns(conn, "published", t) != mart_columns(conn, here, t) for t in PATCHED):
            raise NotPatched("its marts' columns differ from this build's")
        # Dropped and checkpointed before they are written again, so the new rows reuse the old
        # rows' blocks: replaced in place, a table's old blocks stay in the file (a 100 MB file
        # grew to 151 MB by one replaced table of half its size).
        for table in (t for t in mart_tables(conn, "published") if t not in PATCHED):
            conn.execute(f"drop table published.marts.{table}")
        for table in EXTRA_TABLES:
            conn.execute(f"drop table if exists published.{table}")
        conn.execute("checkpoint published")
        for table in (t for t in tables if t not in PATCHED):
            conn.execute(f"create table published.marts.{table} as from marts.{table}")
        since = [earlier.figures_built_at]
        conn.execute(
            f"delete from published.marts.{FIGURES} where figure_id in {CHANGED_FIGURES} "
            f"or not {still_in_mart(f'(select distinct source_id from marts.{FIGURES})')}",
            since * 3,
        )
        conn.execute(
            f"insert into published.marts.{FIGURES} by name select * from "
            f"{mart_rows(FIGURES, f'figure_id in {CHANGED_FIGURES}')}",
            since,
        )
        for table in BY_LINE:
            rows = changed_rows(table)
            conn.execute(f"delete from published.marts.{table} where {rows}", since)
            conn.execute(
                f"insert into published.marts.{table} by name select * from "
                f"{mart_rows(table, rows)}",
                since,
            )
        _copy_comments(conn)
        _write_records(conn, build)
        written = _counts(conn, tables)
        expected = {
            table: conn.execute(f"select count(*) from marts.{table}").fetchall()[0][0]
            for table in tables
        }
        if written != expected:
            raise NotPatched("its row counts, brought up to date, differ from the warehouse's")
        counts = written
        return counts
    finally:
        conn.execute("detach published")
        if counts is None:
            target.unlink(missing_ok=True)


def current_database(conn) -> str:
    return conn.execute("select current_database()").fetchall()[0][0]


def write_published_copy(
    conn,
    target: Path,
    storage_version: str,
    build: dict,
    previous: Build | None = None,
    retiring: Build | None = None,
    note: Callable[[str], None] = lambda _: None,
    copied_ahead: Callable[[Build], Path | None] = lambda _: None,
) -> tuple[dict[str, int], str]:
    """Write the copy at `target`, from the file of `retiring` (the build this publish deletes)
    or of `previous` when the module's rules allow: ({table: rows}, how it was written:
    FROM_RETIRING, FROM_PREVIOUS or FROM_PREVIOUS_AHEAD, or IN_FULL). `copied_ahead(previous)`
    gives a copy of the previous build's file made ahead, if there is one. An earlier build's
    file the rules allowed but that could not be used is passed to `note`, with the reason (the
    run's log)."""
    for earlier, retired, way in (
        (retiring, True, FROM_RETIRING),
        (previous, False, FROM_PREVIOUS),
    ):
        if can_patch(conn, earlier, storage_version):
            copied = None if retired else copied_ahead(earlier)
            if copied is not None:
                way = FROM_PREVIOUS_AHEAD
            try:
                counts = write_from_earlier(
                    conn, target, earlier, build, retired=retired, copied=copied
                )
                return counts, way
            except NotPatched as why:
                which = "retired" if retired else "previous"
                note(f"the DuckDB copy was not written from the {which} build's file: {why}")
    return write_in_full(conn, target, storage_version, build), IN_FULL
