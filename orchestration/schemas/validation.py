"""Run a pandera model over raw rows and say, per row, what is wrong in plain words.

pandera reports failure cases by check; a curator needs them by row. Column checks (types,
keys, patterns, uniqueness) run first; rows that pass them are then checked as whole rows
(period against dates, unit against metric, quote against value), because those checks need
typed columns. Every problem of a row is kept, so one edit fixes it.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pandera.pandas as pa

from orchestration.figures.messages import period_mismatch, quote_value_mismatch
from orchestration.limits import control_character, control_message, length_message
from orchestration.schemas.figures import (
    PERCENT_MAX,
    PERCENT_MIN,
    REF,
    expected_unit,
    period_bounds,
)

SEED_OF_COLUMN = {
    "company": "lookup_companies.csv",
    "segment": "lookup_segments.csv",
    "metric": "lookup_metrics.csv",
    "unit": "lookup_units.csv",
    "measure": "lookup_measures.csv",
}

ROW_CHECK_MESSAGES = {
    "value_is_finite": lambda r: f"value {r.get('value')!r} is not a finite number",
    "period_matches_dates": lambda r: period_mismatch(
        r.get("period"),
        _day(r.get("period_start")),
        _day(r.get("period_end")),
        period_bounds(str(r.get("period"))),
    ),
    "unit_fits_metric": lambda r: (
        f"unit {r.get('unit')!r} does not fit metric {r.get('metric')!r} with measure "
        f"{r.get('measure')!r}: expected {expected_unit(r.get('metric'), r.get('measure'))!r}"
    ),
    "value_in_range": lambda r: (
        f"value {r.get('value')!r} is out of range for unit {r.get('unit')!r} and measure "
        f"{r.get('measure')!r} (levels are >= 0, percents {PERCENT_MIN:g} to {PERCENT_MAX:g}, "
        "shares 0 to 100, ranks whole numbers >= 1)"
    ),
    "quote_zh_states_value": lambda r: _quote_message(r, "zh"),
    "quote_en_states_value": lambda r: _quote_message(r, "en"),
    "has_a_title": lambda r: "title_en and title_zh are both empty",
}


def _quote_message(row: dict, language: str) -> str:
    other = row.get("quote_en" if language == "zh" else "quote_zh")
    return quote_value_mismatch(
        row.get("figure_id"),
        language,
        row.get(f"quote_{language}"),
        row.get("value"),
        row.get("unit"),
        other_quote=other,
        monetary=row.get("unit") in REF.monetary_units,
    )


def _day(value: object) -> str:
    return str(value)[:10] if value is not None and not pd.isna(value) else "(empty)"


NOT_A_NUMBER = "is not a plain number (write 197700000000: no commas, no units)"
NOT_A_DATE = "is not a date (write YYYY-MM-DD)"
FULL_MATCH = "full_match(pattern="


def _column_message(column: str, check: str, failure_case: object) -> str:
    shown = repr(failure_case)
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        if "datetime" in check:
            return f"{column} {shown} {NOT_A_DATE}"
        return f"{column} {shown} {NOT_A_NUMBER}"
    if check == "plain_number":
        return f"{column} {shown} {NOT_A_NUMBER}"
    if check == "iso_date":
        return f"{column} {shown} {NOT_A_DATE}"
    if check.startswith("isin"):
        seed = SEED_OF_COLUMN.get(column)
        where = f" (add new keys to dbt_project/seeds/{seed})" if seed else ""
        return f"{column} {shown} is not one of the allowed values {check[5:-1]}{where}"
    if check == "not_nullable":
        return f"{column} is empty"
    if check == "field_uniqueness":
        return f"{column} {shown} appears more than once"
    if check.startswith(FULL_MATCH):
        return f"{column} {shown} has the wrong format (expected {check[len(FULL_MATCH) : -1]!r})"
    if check == "no_control_characters":
        return control_message(column, control_character(str(failure_case)) or "\0")
    if check.startswith("str_length"):
        if str(failure_case):
            return length_message(column, len(str(failure_case)))
        return f"{column} is empty"
    return f"{column} {shown} fails {check}"


def validate_rows(
    frame: pd.DataFrame, schema: type[pa.DataFrameModel]
) -> tuple[pd.DataFrame, dict[object, list[tuple[str | None, str]]]]:
    """The rows that pass, typed by the schema, and (column, message) problems per failing row."""
    problems: dict[object, list[tuple[str | None, str]]] = defaultdict(list)
    remaining = frame
    model = schema.to_schema()
    for _ in range(3):
        if problems and remaining.empty and set(remaining.columns) == set(model.columns):
            # Every row has failed: what pandera would return for the empty rest is the empty
            # frame typed, and typing it is all that is left to do (at a tenth of the cost).
            return model.coerce_dtype(remaining), dict(problems)
        try:
            return schema.validate(remaining, lazy=True), dict(problems)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
        failed = _collect(cases, remaining, problems)
        if not failed:
            raise RuntimeError(f"{schema.__name__} failed without naming a row:\n{cases}")
        remaining = remaining.drop(index=list(failed))
    return schema.validate(remaining, lazy=True), dict(problems)


def _collect(cases: pd.DataFrame, frame: pd.DataFrame, problems: dict) -> set:
    """Add the messages of the failure cases that name a row; return those rows."""
    column_cases = cases[(cases["schema_context"] == "Column") & cases["index"].notna()]
    # Row checks on untyped columns are noise: when a column failed, they run on the next pass.
    rows = column_cases if len(column_cases) else cases[cases["index"].notna()]
    failed = set()
    for case in rows.itertuples(index=False):
        index, check = case.index, str(case.check)
        if case.schema_context == "Column":
            problem = (case.column, _column_message(case.column, check, case.failure_case))
        else:
            describe = ROW_CHECK_MESSAGES.get(check, lambda r, c=check: f"fails check {c}")
            problem = (None, describe(frame.loc[index].to_dict()))
        failed.add(index)
        if problem not in problems[index]:
            problems[index].append(problem)
    return failed
