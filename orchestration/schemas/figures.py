"""The contract of raw/<source_id>/figures.csv and source.yaml, as pandera models.

Every rule here is one a curator can break by hand: a typo in a key, a value in billions
instead of yuan, a quote that does not state the number. `validation.validate_rows` turns
pandera's failure cases into one plain sentence per broken row, so a rejected row says what to
fix.

The formats are whole-string matches (`fullmatch`, as DuckDB's `regexp_full_match`): a value
is a plain decimal (not `1397_0000_0000` or `1e11`, which Python and DuckDB would both read as
numbers), a date is `YYYY-MM-DD` and a real day (not `2024/01/01`, `2023-1-1` or
`2024-12-31T00:00`), and an id may not end in a line break (which `$` lets through). So value
and dates are checked as the text the curator wrote, and converted where a rule needs the
number or the day. Every field of text has a length limit and may hold no control character
(orchestration/limits.py).
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import pandas as pd
import pandera.pandas as pa
from pandera import extensions
from pandera.typing import Series

from orchestration.figures.numbers import supporting_mention
from orchestration.limits import CONTROL_PATTERN, MAX_FIELD_CHARS
from orchestration.schemas.ids import ID_PATTERN
from orchestration.schemas.reference import load_reference

REF = load_reference()

REQUIRED_COLUMNS = (
    "figure_id", "company", "scope", "segment", "metric", "measure", "period",
    "period_start", "period_end", "value", "unit", "qualifier", "quote_zh",
)  # fmt: skip
OPTIONAL_COLUMNS = ("business", "business_zh", "quote_en", "translation_discrepancy", "note")
COLUMNS = (
    "figure_id", "company", "business", "business_zh", "scope", "segment", "metric", "measure",
    "period", "period_start", "period_end", "value", "unit", "qualifier", "quote_zh", "quote_en",
    "translation_discrepancy", "note",
)  # fmt: skip

SCOPES = ("segment", "unit")
QUALIFIERS = ("exact", "approx", "over", "at_least", "nearly", "under")
DISCREPANCIES = ("value", "scope", "company", "period")
GROWTH_MEASURES = ("yoy_growth", "mom_growth", "qoq_growth")
SHARE_MEASURES = ("share_of_company_revenue", "share_of_parent")
PERCENT_MIN, PERCENT_MAX = -100.0, 1000.0
# Whole-string patterns, read alike by Python's re and DuckDB's RE2 ([0-9], not \d, which
# in Python also matches other scripts' digits).
PERIOD_PATTERN = (
    r"[0-9]{4}|[0-9]{4}Q[1-4]|[0-9]{4}-[0-9]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}/[0-9]{4}-[0-9]{2}-[0-9]{2}"
)
DECIMAL_PATTERN = r"-?[0-9]+(\.[0-9]+)?"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
LANGUAGES_PATTERN = r"(zh|en)(,(zh|en))*"


def parse_day(text: object) -> date | None:
    """The day a YYYY-MM-DD string names, or None for anything else (2024/01/01, 2023-02-30)."""
    if not isinstance(text, str) or re.fullmatch(DATE_PATTERN, text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@extensions.register_check_method(statistics=["pattern"])
def full_match(series: pd.Series, *, pattern: str) -> pd.Series:
    """The whole value matches the pattern."""
    return series.str.fullmatch(pattern)


@extensions.register_check_method()
def plain_number(series: pd.Series) -> pd.Series:
    """A plain decimal: digits, a point, a minus sign; no exponent, separator or unit."""
    return series.str.fullmatch(DECIMAL_PATTERN)


@extensions.register_check_method()
def iso_date(series: pd.Series) -> pd.Series:
    """A real day written YYYY-MM-DD."""
    return series.map(lambda text: parse_day(text) is not None)


@extensions.register_check_method()
def no_control_characters(series: pd.Series) -> pd.Series:
    """No control character but tab and line breaks (orchestration/limits.py)."""
    return ~series.str.contains(CONTROL_PATTERN, regex=True)


# Free text, which only the ban on control characters keeps from holding one: in a key or an
# id a control character already fails its own rule (and costs no scan of every row for it).
FREE_TEXT_COLUMNS = ("business", "business_zh", "quote_zh", "quote_en", "note")


def _text(controls: bool = True, **checks: object) -> dict:
    """The checks a field of text has: its own, a length limit, and (free text) no control
    character."""
    length = checks.pop("str_length", {})
    limited = {**checks, "str_length": {**length, "max_value": MAX_FIELD_CHARS}}
    return {**limited, "no_control_characters": ()} if controls else limited


def period_bounds(label: str) -> tuple[date, date] | None:
    """First and last day of a period label: 2024, 2024Q4, 2024-12, 2024-12-31, a/b."""
    try:
        if re.fullmatch(r"[0-9]{4}", label):
            year = int(label)
            return date(year, 1, 1), date(year, 12, 31)
        if m := re.fullmatch(r"([0-9]{4})Q([1-4])", label):
            year, quarter = int(m.group(1)), int(m.group(2))
            return _month_bounds(year, 3 * quarter - 2)[0], _month_bounds(year, 3 * quarter)[1]
        if m := re.fullmatch(r"([0-9]{4})-([0-9]{2})", label):
            return _month_bounds(int(m.group(1)), int(m.group(2)))
        if re.fullmatch(DATE_PATTERN, label):
            day = date.fromisoformat(label)
            return day, day
        if re.fullmatch(f"{DATE_PATTERN}/{DATE_PATTERN}", label):
            start, end = label.split("/")
            return date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        return None
    return None


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def expected_unit(metric: str, measure: str) -> str | None:
    """The unit a figure of this metric and measure must be stated in."""
    if measure in GROWTH_MEASURES or measure in SHARE_MEASURES:
        return "percent"
    if measure == "rank":
        return "rank"
    return REF.metric_units.get(metric)


def _present(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _numbers(df: pd.DataFrame) -> pd.Series:
    """The values as numbers, for the rules on them (NaN where a value is not a number)."""
    return pd.Series(
        [float(v) if isinstance(v, str) and re.fullmatch(DECIMAL_PATTERN, v) else math.nan
         for v in df["value"]],
        index=df.index,
        dtype="float64",
    )  # fmt: skip


class FigureSchema(pa.DataFrameModel):
    """One row per figure a source states, in base units, with its verbatim quotes."""

    figure_id: Series[str] = pa.Field(
        unique=True,
        **_text(controls=False, full_match={"pattern": ID_PATTERN}),
        description="Stable id, unique across sources.",
    )
    company: Series[str] = pa.Field(
        **_text(controls=False, isin=REF.companies), description="Company key (seed)."
    )
    business: Series[str] = pa.Field(
        nullable=True, **_text(), description="Business unit, in English."
    )
    business_zh: Series[str] = pa.Field(
        nullable=True, **_text(), description="Business unit, in Chinese."
    )
    scope: Series[str] = pa.Field(
        **_text(controls=False, isin=SCOPES),
        description="segment: the company's whole segment; unit: a part of it.",
    )
    segment: Series[str] = pa.Field(
        **_text(controls=False, isin=REF.segments), description="Segment key (seed)."
    )
    metric: Series[str] = pa.Field(
        **_text(controls=False, isin=REF.metrics), description="Metric key (seed)."
    )
    measure: Series[str] = pa.Field(
        **_text(controls=False, isin=REF.measures), description="Level, growth, share, rank."
    )
    period: Series[str] = pa.Field(
        **_text(controls=False, full_match={"pattern": PERIOD_PATTERN}), description="Period label."
    )
    period_start: Series[str] = pa.Field(
        iso_date=(), description="First day of the period, YYYY-MM-DD."
    )
    period_end: Series[str] = pa.Field(iso_date=(), description="Last day of the period.")
    value: Series[str] = pa.Field(
        plain_number=(), description="The value in base units (yuan, users, %), a plain decimal."
    )
    unit: Series[str] = pa.Field(
        **_text(controls=False, isin=REF.units), description="Unit key (seed)."
    )
    qualifier: Series[str] = pa.Field(
        **_text(controls=False, isin=QUALIFIERS), description="exact, approx, over, ..."
    )
    quote_zh: Series[str] = pa.Field(
        **_text(str_length={"min_value": 1}), description="Chinese quote."
    )
    quote_en: Series[str] = pa.Field(nullable=True, **_text(), description="English quote, if any.")
    translation_discrepancy: Series[str] = pa.Field(
        nullable=True,
        **_text(controls=False, isin=DISCREPANCIES),
        description="How the English disagrees, if it does.",
    )
    note: Series[str] = pa.Field(nullable=True, **_text(), description="Curator's note.")

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(name="value_is_finite")
    def value_is_finite(cls, df: pd.DataFrame) -> Series[bool]:
        return _numbers(df).map(math.isfinite)

    @pa.dataframe_check(name="period_matches_dates")
    def period_matches_dates(cls, df: pd.DataFrame) -> Series[bool]:
        def ok(row: pd.Series) -> bool:
            bounds = period_bounds(row["period"]) if isinstance(row["period"], str) else None
            days = (parse_day(row["period_start"]), parse_day(row["period_end"]))
            return bounds is not None and days == bounds

        return df.apply(ok, axis=1)

    @pa.dataframe_check(name="unit_fits_metric")
    def unit_fits_metric(cls, df: pd.DataFrame) -> Series[bool]:
        return pd.Series(
            [
                expected_unit(m, s) == u
                for m, s, u in zip(df["metric"], df["measure"], df["unit"], strict=True)
            ],
            index=df.index,
        )

    @pa.dataframe_check(name="value_in_range")
    def value_in_range(cls, df: pd.DataFrame) -> Series[bool]:
        value, unit, measure = _numbers(df), df["unit"], df["measure"]
        percent_ok = value.between(PERCENT_MIN, PERCENT_MAX)
        share_ok = value.between(0, 100)
        rank_ok = (value >= 1) & (value == value.round())
        return (
            ((unit != "percent") | percent_ok)
            & (~measure.isin(SHARE_MEASURES) | share_ok)
            & ((unit != "rank") | rank_ok)
            & ((measure != "level") | (value >= 0))
        )

    @pa.dataframe_check(name="quote_zh_states_value")
    def quote_zh_states_value(cls, df: pd.DataFrame) -> Series[bool]:
        return pd.Series(
            [
                _present(q) and supporting_mention(q, "zh", v, u) is not None
                for q, v, u in zip(df["quote_zh"], _numbers(df), df["unit"], strict=True)
            ],
            index=df.index,
        )

    @pa.dataframe_check(name="quote_en_states_value")
    def quote_en_states_value(cls, df: pd.DataFrame) -> Series[bool]:
        return pd.Series(
            [
                not _present(q) or d == "value" or supporting_mention(q, "en", v, u) is not None
                for q, v, u, d in zip(
                    df["quote_en"],
                    _numbers(df),
                    df["unit"],
                    df["translation_discrepancy"],
                    strict=False,
                )
            ],
            index=df.index,
        )


class SourceSchema(pa.DataFrameModel):
    """One row per source document, from raw/<source_id>/source.yaml."""

    source_id: Series[str] = pa.Field(
        unique=True, **_text(full_match={"pattern": ID_PATTERN}), description="Folder."
    )
    title_en: Series[str] = pa.Field(nullable=True, **_text(), description="Title in English.")
    title_zh: Series[str] = pa.Field(nullable=True, **_text(), description="Title in Chinese.")
    publisher: Series[str] = pa.Field(
        **_text(str_length={"min_value": 1}), description="Publisher."
    )
    author: Series[str] = pa.Field(nullable=True, **_text(), description="Author.")
    publication_date: Series[str] = pa.Field(
        iso_date=(), description="Date of publication, YYYY-MM-DD."
    )
    languages: Series[str] = pa.Field(
        **_text(full_match={"pattern": LANGUAGES_PATTERN}),
        description="Languages of the text, e.g. zh,en.",
    )
    authoritative_language: Series[str] = pa.Field(
        **_text(isin=("zh", "en")), description="The language whose wording wins."
    )
    citation: Series[str] = pa.Field(
        **_text(str_length={"min_value": 1}), description="Citation line."
    )
    notes: Series[str] = pa.Field(nullable=True, **_text(), description="Curator's notes.")
    text: Series[str] = pa.Field(
        nullable=True, **_text(), description="Path of the article text, if kept."
    )

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(name="has_a_title")
    def has_a_title(cls, df: pd.DataFrame) -> Series[bool]:
        return df["title_en"].notna() | df["title_zh"].notna()


SOURCE_COLUMNS = tuple(SourceSchema.to_schema().columns)
SOURCE_REQUIRED = ("source_id", "publisher", "publication_date", "languages", "citation")
