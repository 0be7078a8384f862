"""The contract check of a load: every row that breaks a rule, with the reason a curator reads.

The rules run in SQL (`orchestration/schemas/contract_sql.py`), with the same messages as the
pandera model. Only the rows SQL flags reach Python: quotes it cannot confirm go to the number
parser (`numbers.py`), and every failing row gets its sentence. What this returns the loader
moves to raw.figures_rejected; the asset check runs the same rules over raw.figures as stored
(`audit_figures`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pandas as pd

from orchestration.figures.messages import quote_not_in_text
from orchestration.figures.numbers import supporting_mention
from orchestration.ingestion.raw_files import SourceFolder
from orchestration.ingestion.raw_tables import (
    INCOMING,
    TYPED,
    UNPARSED,
    WORKING_COLUMNS,
    LoadReport,
    ensure_raw_schema,
)
from orchestration.schemas.contract_sql import (
    MACROS,
    VALUE_TEXT,
    column_rules,
    flag_columns,
    flags,
    passes,
    problems,
    quote_confirmed,
    quote_text,
    quote_token,
    row_rules,
    typed_from_text,
)
from orchestration.schemas.validation import ROW_CHECK_MESSAGES


def loaded_as_text(where: str = "") -> str:
    """SQL: raw.figures in the layout the checks read (typed columns as v, start_day, end_day)."""
    plain = [c for c in WORKING_COLUMNS if c not in TYPED]
    return (
        f"select {', '.join(plain)}, null::varchar as value, null::varchar as period_start, "
        "null::varchar as period_end, value as v, period_start as start_day, "
        f"period_end as end_day from raw.figures {where}"
    )


def incoming_view(
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
        {loaded_as_text(where)}
        union all by name
        select *, {typed_from_text("value")} as v, {typed_from_text("period_start")} as start_day,
               {typed_from_text("period_end")} as end_day
        from {UNPARSED}
        """
    )


def check_rows(
    conn: duckdb.DuckDBPyConnection,
    folders: list[SourceFolder],
    report: LoadReport,
    relation: str,
    settled: bool = False,
) -> pd.DataFrame:
    """Every row of the relation that breaks the contract, with its reason (the rest loads).

    The relation has the figure columns as VARCHAR, the lineage, and `v`, `start_day`,
    `end_day` typed (see `loaded_as_text`). For rows a load has `settled`, the costly rules
    that only a row's own text decides (the quote states the value, free text holds no control
    character) are skipped: the table cannot change them, the seeds neither. `report.rows_read`,
    the relation's row count, decides whether DuckDB optimizes the queries (OPTIMIZE_FROM_ROWS).
    """
    quotes = not settled
    texts = pd.DataFrame(
        [(f.source_id, f.text.zh, f.text.en, f.text.path.name) for f in folders if f.text],
        columns=["source_id", "text_zh", "text_en", "text_name"],
    ).astype(object)
    conn.register("_texts", texts)
    small = report.rows_read < OPTIMIZE_FROM_ROWS
    if small:
        # A few rows, read by a view over raw.figures however large it is: read them once, with
        # the optimizer (the filter reaches the scan), rather than once per query below, and
        # unoptimized in the last one (a scan of every stored row, every column).
        conn.execute(f"create or replace temp table {CHECKED} as select * from {relation}")
        relation = CHECKED
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
    with _optimizer(conn, on=not small):
        # Every rule's verdict on every row, once; the rows that break one are kept aside.
        ((flagged_rows,),) = conn.execute(
            f"""
            create or replace temp table _flagged as
            with typed as (
                select s.*, d.owner, d.owner_line,
                       coalesce(s.source_id = d.owner and d.repeated_in_owner, false)
                           as duplicate_in_source
                from {relation} s left join _duplicate_ids d on s.figure_id = d.figure_id
            ),
            column_flags as (select *, {flags(columns, COLUMN_FLAG)} from typed),
            marked as (select *, {passes(columns, COLUMN_FLAG)} as columns_ok from column_flags),
            tokens as (
                select *,
                    {flags(whole_rows, ROW_FLAG, when="columns_ok")},
                    case when columns_ok then {quote_text("quote_zh", "zh")} end as zh_text,
                    case when columns_ok then {quote_token("zh")} end as zh_token,
                    case when columns_ok and {en_needed} then quote_en end as en_text,
                    case when columns_ok and {en_needed} then {quote_token("en")} end as en_token
                from marked
            ),
            confirmed as (
                select *,
                    case when columns_ok then {passes(whole_rows, ROW_FLAG)} end as rows_ok,
                    {quote_confirmed("zh_text", "zh_token", "zh") if quotes else "true"}
                        as zh_confirmed,
                    case when en_text is not null
                         then {quote_confirmed("en_text", "en_token", "en") if quotes else "true"}
                    end as en_confirmed
                from tokens
            )
            select r.* exclude (file_hash, duplicate_in_source, zh_text, zh_token, en_text,
                                en_token, rows_ok),
                   t.text_name,
                   t.source_id is not null and not contains(t.text_zh, r.quote_zh)
                       as zh_not_in_text,
                   t.source_id is not null and r.quote_en is not null
                       and not contains(t.text_en, r.quote_en) as en_not_in_text
            from confirmed r left join _texts t on r.source_id = t.source_id
            where (r.owner is not null and r.source_id != r.owner)
               or not r.columns_ok or not r.rows_ok
               or not r.zh_confirmed or r.en_confirmed = false
               or (t.source_id is not null and (not contains(t.text_zh, r.quote_zh)
                   or (r.quote_en is not null and not contains(t.text_en, r.quote_en))))
            """
        ).fetchall()
        # The messages, for the rules some row breaks: written out for those rules alone.
        named = flag_columns(columns, COLUMN_FLAG) + flag_columns(whole_rows, ROW_FLAG)
        verdicts = [False] * len(named)
        if flagged_rows:
            (verdicts,) = conn.execute(
                f"select {', '.join(f'coalesce(bool_or({c}), false)' for c in named)} from _flagged"
            ).fetchall()
        broken = [n for n, verdict in enumerate(verdicts) if verdict]
        broken_columns = {n for n in broken if n < len(columns)}
        broken_rows = {n - len(columns) for n in broken if n >= len(columns)}
        flagged = conn.execute(
            f"""
            select source_id, source_file, source_row, figure_id, owner, owner_line,
                   {problems(columns, COLUMN_FLAG, broken_columns)} as column_problems,
                   case when columns_ok then {problems(whole_rows, ROW_FLAG, broken_rows)}
                   end as row_problems,
                   zh_confirmed, en_confirmed, quote_zh, quote_en, v, unit,
                   {VALUE_TEXT} as value, text_name, zh_not_in_text, en_not_in_text
            from _flagged
            """
        ).df()
    conn.unregister("_texts")
    conn.execute(
        f"drop table if exists _duplicate_ids; drop table if exists _flagged; "
        f"drop table if exists {CHECKED}"
    )
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


# Below this many rows, DuckDB's optimizer costs the check's queries more than it saves (the
# check alone, CPU s, unoptimized against optimized: 0.05 against 0.07 for 10 rows, 0.11 against
# 0.12 for 3,000; 0.16 against 0.10 for 10,000, 0.88 against 0.42 for 100,000): small loads run
# the queries as written, larger ones as DuckDB optimizes them.
OPTIMIZE_FROM_ROWS = 5_000


@contextlib.contextmanager
def _optimizer(conn: duckdb.DuckDBPyConnection, on: bool) -> Iterator[None]:
    """DuckDB's optimizer on or off for the block (check_rows: OPTIMIZE_FROM_ROWS)."""
    if on:
        yield
        return
    conn.execute("pragma disable_optimizer")
    try:
        yield
    finally:
        conn.execute("pragma enable_optimizer")


# The rows of a small check, read once (check_rows).
CHECKED = "_checked_rows"

# The flag columns of the rules (contract_sql.flags) in the check's working table.
COLUMN_FLAG, ROW_FLAG = "column_rule", "row_rule"


def audit_figures(conn: duckdb.DuckDBPyConnection, since: datetime | None = None) -> pd.DataFrame:
    """Loaded figures that break the contract now (none, unless the table or the seeds moved):
    every row, or those loaded after `since`.

    The same SQL as the load over raw.figures as stored, every rule but the quotes and the
    search for control characters (the costly ones, which the load settled row by row and the
    seeds cannot change; the asset check re-runs them with pandera on a sample): what the asset
    check reports.
    """
    ensure_raw_schema(conn)
    conn.execute(MACROS)
    where = "" if since is None else f"where loaded_at > '{since.isoformat(sep=' ')}'::timestamp"
    conn.execute(f"create or replace temp view _loaded_figures as {loaded_as_text(where)}")
    try:
        ((stored,),) = conn.execute("select count(*) from _loaded_figures").fetchall()
        report = LoadReport(counts={}, rows_read=stored)
        return check_rows(conn, [], report, "_loaded_figures", settled=True)
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
