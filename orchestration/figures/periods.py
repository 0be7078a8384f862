"""Periods as articles write them, turned into the contract's period labels.

An article states a period in many ways: 2025 年第一季度, 一季度, Q1, 上半年, 2025 财年第四季度,
截至 2025 年 3 月 31 日的季度, 截至 6 月底, 去年同期, 本季度. Many of them leave something to
the reader (the year, the company's fiscal calendar, "this" quarter), so each is found first as a
`PeriodMention`, then resolved against its context: the period the paragraph last named, or the
article's main period, and the company's fiscal year end for fiscal periods.

Labels follow raw/README.md: `2025` (a calendar year), `2025Q1`, `2025-06` (a month),
`2025-06-30` (a date: "as of", or a cumulative figure), and `2024-04-01/2025-03-31` for any other
range. A fiscal quarter is written as the calendar quarter it covers when it covers one
(Alibaba's fiscal 2025 Q3 is `2024Q4`), otherwise as its range; a fiscal year that is not a
calendar year is always a range.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

ZH_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
EN_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
EN_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES.split())}
CALENDAR_YEAR_END = (12, 31)

# Kinds of mention. ANCHORS name a period outright and become the paragraph's context.
QUARTER, HALF, YEAR, MONTH, MONTHS, DATE, YTD = (
    "quarter",
    "half",
    "year",
    "month",
    "months",
    "date",
    "ytd",
)
FISCAL_QUARTER, FISCAL_HALF, FISCAL_YEAR = "fiscal_quarter", "fiscal_half", "fiscal_year"
QUARTER_ENDING, HALF_ENDING, YEAR_ENDING = "quarter_ending", "half_ending", "year_ending"
THIS_QUARTER, PREVIOUS_QUARTER, SAME_PERIOD = "this_quarter", "previous_quarter", "same_period"
THIS_YEAR, LAST_YEAR, PRIOR_YEAR = "this_year", "last_year", "prior_year"
QUARTER_END, NOW = "quarter_end", "now"
EVENT = "event"  # a date on which something happened: never a figure's period
ANCHORS = {
    QUARTER, HALF, YEAR, MONTH, MONTHS, YTD, FISCAL_QUARTER, FISCAL_HALF, FISCAL_YEAR,
    QUARTER_ENDING, HALF_ENDING, YEAR_ENDING, THIS_YEAR, LAST_YEAR, THIS_QUARTER,
}  # fmt: skip
# A comparison base (去年同期) is a period of its own figure only, never of a growth rate.
COMPARISONS = {SAME_PERIOD, PREVIOUS_QUARTER, PRIOR_YEAR}


@dataclass(frozen=True)
class Period:
    """A resolved period: its first and last day."""

    start: date
    end: date

    @property
    def label(self) -> str:
        return period_label(self.start, self.end)

    def shifted(self, years: int) -> Period:
        return Period(_add_years(self.start, years), _add_years(self.end, years))


@dataclass(frozen=True)
class PeriodMention:
    """A period expression in a text, not yet resolved: what it says, and where."""

    start: int
    end: int
    kind: str
    year: int | None = None  # None: the reader supplies it from the context
    number: int = 0  # quarter 1-4, half 1-2, month 1-12, or years back for SAME_PERIOD
    month: int = 0  # a date's month, or the last month of a range of months
    day: int = 0
    text: str = ""
    years_back: int | None = None  # 去年一季度: 1, 今年: 0 (from the publication year)

    @property
    def is_anchor(self) -> bool:
        return self.kind in ANCHORS


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    """The same day-of-month `months` later (day 1 only: enough for period starts)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_label(start: date, end: date) -> str:
    """The contract's label of a period: 2025, 2025Q1, 2025-06, 2025-06-30, or start/end."""
    if start == end:
        return start.isoformat()
    if start.day == 1 and end == _month_end(end.year, end.month):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 12 and start.month == 1:
            return str(start.year)
        if months == 3 and start.month % 3 == 1:
            return f"{start.year}Q{(start.month + 2) // 3}"
        if months == 1:
            return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()}/{end.isoformat()}"


def quarter(year: int, number: int) -> Period:
    return Period(date(year, 3 * number - 2, 1), _month_end(year, 3 * number))


def fiscal_year(year: int, year_end: tuple[int, int]) -> Period:
    """Fiscal year `year` (named after the calendar year it ends in)."""
    month, day = year_end
    end = date(year, month, day)
    return Period(_add_years(end, -1) + timedelta(days=1), end)


def fiscal_part(year: int, year_end: tuple[int, int], months: int, number: int) -> Period:
    """The number-th part of `months` months of fiscal year `year` (a quarter: months=3)."""
    first = fiscal_year(year, year_end).start
    start = _add_months(first, months * (number - 1))
    return Period(start, _add_months(start, months) - timedelta(days=1))


def _ending(end: date, months: int) -> Period:
    start = _add_months(date(end.year, end.month, 1), 1 - months)
    return Period(start, end)


# --- finding -----------------------------------------------------------------------------

_YEAR = r"(?:(?P<y>20\d{2})\s*年\s*|(?P<rel>去年|上年|今年|本年)\s*)?"  # an optional year
_Q = r"第?\s*(?P<q>[一二三四]|(?<![\d.])[1-4])"
_MD = r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
_UNTIL = r"(?:截至|截止到?|到)\s*"
# The last day of a span (3 月 31 日, or 6 月底: the month's last day), and what joins it to the
# span's length: 截至 2025 年 3 月 31 日止三个月, 截至 6 月底的六个月.
_END = r"(?P<m>\d{1,2})\s*月\s*(?:(?P<d>\d{1,2})\s*[日号]|底|末)"
_SPAN = r"\s*(?:止\s*)?(?:的\s*)?"
_FY = r"(?:(?P<y>20\d{2})\s*财年|FY\s*(?P<yy>20\d{2}|\d{2})\s*(?:财年)?)\s*(?:的\s*)?"

# (pattern, kind), tried in this order; a match may not overlap an earlier one. Named groups:
# y (year), yy (two-digit fiscal year), q (quarter), h (half), m and d (month, day), m2.
_ZH_PATTERNS: list[tuple[str, str]] = [
    (
        _UNTIL + _YEAR + _END + _SPAN + r"(?:三个月|季度|财季|第?[一二三四]\s*(?:财季|季度))",
        QUARTER_ENDING,
    ),
    (_UNTIL + _YEAR + _END + _SPAN + r"(?:六个月|半年|上半年|下半年|中期)", HALF_ENDING),
    (_UNTIL + _YEAR + _END + _SPAN + r"(?:十二个月|年度|财年|全年|一年)", YEAR_ENDING),
    (_UNTIL + r"(?P<y>20\d{2})\s*-\s*(?P<m>\d{1,2})\s*-\s*(?P<d>\d{1,2})", DATE),
    (_UNTIL + _YEAR + _MD, DATE),
    (_UNTIL + _YEAR + r"(?P<m>\d{1,2})\s*月\s*(?:底|末)", DATE),
    (r"(?:截至|截止到?)\s*(?:(?P<y>20\d{2})\s*年\s*)?(?:底|末)", DATE),
    (r"(?P<y>20\d{2})\s*年\s*(?:底|末)|年底|年末", DATE),
    (_YEAR + _Q + r"\s*季度\s*(?:末|底)", QUARTER_END),
    (r"上一?个?季度", PREVIOUS_QUARTER),
    (r"(?:本|该|这一?|那一?|当|同一?)个?季度|当季|单季", THIS_QUARTER),
    (_FY + r"(?:" + _Q + r"\s*(?:财季|季度|季)|Q(?P<q2>[1-4]))", FISCAL_QUARTER),
    (_FY + r"(?:(?P<h>上|下)半年|H(?P<h2>[12]))", FISCAL_HALF),
    (_FY, FISCAL_YEAR),
    (
        r"(?:财年\s*)?" + _Q + r"\s*财季|财年\s*" + _Q.replace("q>", "q3>") + r"\s*季度",
        FISCAL_QUARTER,
    ),
    (_YEAR + r"前三(?:个)?季度", YTD),
    (_YEAR + _Q + r"\s*季度", QUARTER),
    (r"(?:(?P<y>20\d{2})\s*年?\s*)?Q(?P<q>[1-4])(?![0-9])", QUARTER),
    (_YEAR + r"(?P<h>上|下)半年", HALF),
    (r"(?:(?P<y>20\d{2})\s*年?\s*)?H(?P<h>[12])(?![0-9])", HALF),
    (
        _YEAR + r"(?P<m>\d{1,2})\s*(?:-|~|至|到)\s*(?P<m2>\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])",
        MONTHS,
    ),
    # 自 2024 年 6 月上线以来, 上线以来: until now
    (r"(?:自|从)\s*[^,，。;；]{0,20}?以来|(?:上线|推出|发布|成立|开通)以来", NOW),
    (_YEAR + _MD, EVENT),  # a day: an event's date, not a period
    (r"(?P<y>20\d{2})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})", EVENT),
    (_YEAR + r"(?P<m>\d{1,2})\s*月(?!\s*\d)", MONTH),
    (r"(?:去年|上年|(?P<y>20\d{2})\s*年)\s*同期", SAME_PERIOD),
    (r"(?P<y>20\d{2})\s*年(?:度|全年)?", YEAR),
    (r"去年", LAST_YEAR),  # the year before the article's
    (r"上一?年(?!度)", PRIOR_YEAR),  # the year before the one in question: 较上年
    (r"全年|年度|过去一年|这一年|今年|本年|年内|当年", THIS_YEAR),
    (r"截至目前|目前|当前|迄今|至今", NOW),
]
_EN_Q = r"(?P<qw>first|second|third|fourth)"
_EN_MONTH = r"(?P<mw>" + "|".join(EN_MONTHS) + r")"
_EN_PATTERNS: list[tuple[str, str]] = [
    (r"\bas of\s+(?:the end of\s+)?" + _EN_MONTH + r"\s+(?P<d>\d{1,2}),?\s+(?P<y>20\d{2})", DATE),
    (r"\bas of\s+(?:the\s+)?end of\s+" + _EN_MONTH + r"(?:,?\s+(?P<y>20\d{2}))?", DATE),
    (r"\bfiscal\s+(?:year\s+)?(?P<y>20\d{2})\s+" + _EN_Q + r"\s+quarter", FISCAL_QUARTER),
    (
        r"\b" + _EN_Q + r"\s+(?:fiscal\s+)?quarter\s+of\s+fiscal\s+(?:year\s+)?(?P<y>20\d{2})",
        FISCAL_QUARTER,
    ),
    (r"\b(?:fiscal\s+(?:year\s+)?|FY\s*)(?P<y>20\d{2})", FISCAL_YEAR),
    (r"\b" + _EN_Q + r"\s+quarter(?:\s+of\s+(?P<y>20\d{2}))?", QUARTER),
    (r"\bQ(?P<q>[1-4])(?:\s+(?P<y>20\d{2}))?\b", QUARTER),
    (r"\b(?P<hw>first|second)\s+half(?:\s+of\s+(?:the\s+year\s+)?(?P<y>20\d{2}))?", HALF),
    (r"\b(?:the\s+same\s+period|year-ago\s+period|a\s+year\s+earlier)\b", SAME_PERIOD),
    (r"\b(?:the|this)\s+quarter\b", THIS_QUARTER),
    (r"\b" + _EN_MONTH + r"\s+(?P<d>\d{1,2}),?\s+(?P<y>20\d{2})", EVENT),
    (r"\b" + _EN_MONTH + r"(?:\s+(?P<y>20\d{2}))?\b", MONTH),
    (r"\b(?P<y>20\d{2})\b(?!\s*(?:billion|million|thousand|%|units|yuan))", YEAR),
]


def _read(m: re.Match[str], kind: str) -> PeriodMention | None:
    """A pattern's named groups as a mention; None when they name no real period."""
    g = {k: v for k, v in m.groupdict().items() if v}
    year = int(g["y"]) if "y" in g else (2000 + int(g["yy"][-2:]) if "yy" in g else None)
    years_back = {"去年": 1, "上年": 1, "今年": 0, "本年": 0}.get(g.get("rel", ""))
    q = g.get("q") or g.get("q2") or g.get("q3")
    number = ZH_NUMERALS.get(q, 0) if q else EN_ORDINALS.get(g.get("qw", "").lower(), 0)
    if half := g.get("h") or g.get("h2") or g.get("hw"):
        number = 1 if half.lower() in ("上", "1", "first") else 2
    month = int(g["m"]) if "m" in g else EN_MONTHS.get(g.get("mw", "").lower(), 0)
    day = int(g.get("d", 0))
    if kind == MONTHS:
        number, month = month, int(g["m2"])
        if not 1 <= number < month <= 12:
            return None
    elif kind == MONTH:
        if g.get("mw", "").lower() == "may" and year is None:
            return None  # the verb
        number = month
    elif kind == DATE and not day:
        month, day = (month or 12), 31  # 截至 6 月底, 年底: the month's last day
    elif kind in (QUARTER_ENDING, HALF_ENDING, YEAR_ENDING) and not day:
        day = 31  # 截至 6 月底的六个月: resolved to the month's last day
    if month > 12 or (kind in (MONTH, MONTHS) and not 1 <= number <= 12):
        return None
    return PeriodMention(m.start(), m.end(), kind, year, number, month, day, m.group(0), years_back)


def find_periods(text: str, language: str = "zh") -> list[PeriodMention]:
    """Every period expression of a text, in order; event dates are returned as kind 'event'."""
    patterns = _ZH_PATTERNS if language == "zh" else _EN_PATTERNS
    taken: list[tuple[int, int]] = []
    found = []
    for pattern, kind in patterns:
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            mention = _read(m, kind)
            if mention is not None:
                taken.append(m.span())
                found.append(mention)
    return sorted(found, key=lambda p: p.start)


# --- resolving -----------------------------------------------------------------------------


def resolve(
    mention: PeriodMention,
    context: Period,
    main: Period,
    year_end: tuple[int, int] = CALENDAR_YEAR_END,
    published: date | None = None,
) -> Period | None:
    """The period a mention means, read in its context (the paragraph's period or the main one).

    A year left out is the context's; a period that would then end after the publication date
    (or, when that is unknown, after the article's main period: 四季度 in an article on the first
    quarter) is taken from the year before.
    """
    try:
        return _resolve(mention, context, main, year_end, published)
    except ValueError:  # a day that does not exist: 2 月 30 日
        return None


def _resolve(
    mention: PeriodMention,
    context: Period,
    main: Period,
    year_end: tuple[int, int],
    published: date | None,
) -> Period | None:
    now = published.year if published else main.end.year
    year = mention.year
    if mention.years_back is not None:
        year = now - mention.years_back
    implicit = year is None
    year = year or context.end.year
    kind = mention.kind
    period: Period | None
    if kind == QUARTER:
        period = quarter(year, mention.number)
    elif kind == QUARTER_END:
        period = quarter(year, mention.number)
        period = Period(period.end, period.end)
    elif kind == HALF:
        period = Period(date(year, 6 * mention.number - 5, 1), _month_end(year, 6 * mention.number))
    elif kind == YTD:
        period = Period(date(year, 1, 1), date(year, 9, 30))
    elif kind in (YEAR, THIS_YEAR):
        period = Period(date(year, 1, 1), date(year, 12, 31))
    elif kind == LAST_YEAR:
        return Period(date(now - 1, 1, 1), date(now - 1, 12, 31))
    elif kind == PRIOR_YEAR:
        return Period(date(context.end.year - 1, 1, 1), date(context.end.year - 1, 12, 31))
    elif kind == MONTH:
        period = Period(date(year, mention.number, 1), _month_end(year, mention.number))
    elif kind == MONTHS:
        period = Period(date(year, mention.number, 1), _month_end(year, mention.month))
    elif kind == DATE:
        day = min(mention.day, _month_end(year, mention.month).day)
        period = Period(date(year, mention.month, day), date(year, mention.month, day))
    elif kind in (QUARTER_ENDING, HALF_ENDING, YEAR_ENDING):
        end = date(year, mention.month, min(mention.day, _month_end(year, mention.month).day))
        months = {QUARTER_ENDING: 3, HALF_ENDING: 6, YEAR_ENDING: 12}[kind]
        return _ending(end, months)
    elif kind in (FISCAL_QUARTER, FISCAL_HALF, FISCAL_YEAR):
        return _fiscal(mention, year_end, main)
    elif kind == THIS_QUARTER:
        return quarter(context.end.year, (context.end.month + 2) // 3)
    elif kind == PREVIOUS_QUARTER:
        this = quarter(context.end.year, (context.end.month + 2) // 3)
        end = this.start - timedelta(days=1)
        return quarter(end.year, (end.month + 2) // 3)
    elif kind == SAME_PERIOD:
        shift = (mention.year - context.end.year) if mention.year else -1
        return context.shifted(shift)
    elif kind == NOW:
        return Period(published, published) if published else None
    else:
        return None
    # A year is whole only at its end: 全年 in a first-quarter article may be this year's outlook.
    last_day = period.start if kind in (YEAR, THIS_YEAR) else period.end
    if implicit and last_day > (published or main.end):
        period = period.shifted(-1)
    return period


def _fiscal(mention: PeriodMention, year_end: tuple[int, int], main: Period) -> Period:
    months = {FISCAL_QUARTER: 3, FISCAL_HALF: 6, FISCAL_YEAR: 12}[mention.kind]
    number = mention.number or 1

    def build(year: int) -> Period:
        if months == 12:
            return fiscal_year(year, year_end)
        return fiscal_part(year, year_end, months, number)

    if mention.year:
        return build(mention.year)
    # No year (第四财季): the fiscal year whose part ends last on or before the main period's end.
    options = [build(y) for y in range(main.end.year - 1, main.end.year + 2)]
    fitting = [p for p in options if p.end <= main.end] or options[:1]
    return max(fitting, key=lambda p: p.end)


def main_period(
    mentions: list[PeriodMention],
    published: date | None = None,
    year_end_of: Callable[[PeriodMention], tuple[int, int]] | None = None,
) -> Period:
    """The period an article is mostly about: its most often named quarter, half or year.

    Year-less mentions are read in the calendar year named most (a fiscal year's number is not
    a calendar year: Alibaba's fiscal 2026 begins in April 2025), fiscal ones with the fiscal
    year end `year_end_of` gives them. Nothing after the publication date can be the main
    period. With no period at all: the publication year, or 2024.
    """
    fiscal = (FISCAL_QUARTER, FISCAL_HALF, FISCAL_YEAR)
    latest = published.year if published else 9999
    years = Counter(
        m.year
        for m in mentions
        if m.year and m.year <= latest and m.kind in ANCHORS | {DATE} and m.kind not in fiscal
    )
    if years:  # the most named; on a tie the latest
        year = max(years, key=lambda y: (years[y], y))
    else:
        year = published.year if published else 2024
    whole = Period(date(year, 1, 1), date(year, 12, 31))
    base = Period(whole.start, min(whole.end, published)) if published else whole
    counted: Counter[Period] = Counter()
    for mention in mentions:
        if mention.kind in (QUARTER, HALF, YEAR, *fiscal):
            year_end = year_end_of(mention) if year_end_of else CALENDAR_YEAR_END
            period = resolve(mention, base, base, year_end, published)
            if period is not None and (published is None or period.end <= published):
                counted[period] += 1
    if not counted:
        return whole
    # Ties go to the shorter period: a quarterly article names the year in passing.
    return max(counted, key=lambda p: (counted[p], -(p.end - p.start).days))
