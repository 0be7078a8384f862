"""Periods as articles write them become the contract's period labels."""

from datetime import date

import pytest

from orchestration.figures.periods import (
    Period,
    find_periods,
    fiscal_part,
    fiscal_year,
    main_period,
    period_label,
    quarter,
    resolve,
)
from orchestration.schemas.figures import period_bounds

Q1_2025 = quarter(2025, 1)
ALIBABA = (3, 31)


def labels(text: str, main: Period = Q1_2025, year_end=(12, 31), published=None) -> list[str]:
    """The label of each period the text names, read in the main period."""
    found = [p for p in find_periods(text) if p.kind != "event"]
    resolved = [resolve(p, main, main, year_end, published) for p in found]
    return [p.label if p else "" for p in resolved]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("2025 年第一季度", "2025Q1"),
        ("2025年一季度", "2025Q1"),
        ("第一季度", "2025Q1"),
        ("一季度", "2025Q1"),
        ("2025Q1", "2025Q1"),
        ("2025 年 Q1", "2025Q1"),
        ("Q1", "2025Q1"),
        ("四季度", "2024Q4"),  # a quarter after the article's own is last year's
        ("去年一季度", "2024Q1"),
        ("2024 年第四季度", "2024Q4"),
        ("2025 年上半年", "2025-01-01/2025-06-30"),
        ("上半年", "2024-01-01/2024-06-30"),  # not over by the end of the first quarter
        ("2024 年下半年", "2024-07-01/2024-12-31"),
        ("前三季度", "2024-01-01/2024-09-30"),
        ("2024 年", "2024"),
        ("2024 年度", "2024"),
        ("全年", "2025"),
        ("2024 年 12 月", "2024-12"),
        ("12月", "2024-12"),
        ("1-3 月", "2025Q1"),
        ("2024 年 9-12 月", "2024-09-01/2024-12-31"),
        ("截至 2025 年 3 月 31 日的季度", "2025Q1"),
        ("截至 2025 年 3 月 31 日止三个月", "2025Q1"),
        ("截至 2024 年 9 月 30 日止六个月", "2024-04-01/2024-09-30"),
        ("截至 2025 年 3 月 31 日", "2025-03-31"),
        ("截至 3 月底", "2025-03-31"),
        ("截至 2024 年底", "2024-12-31"),
        ("一季度末", "2025-03-31"),
        ("本季度", "2025Q1"),
        ("该季度", "2025Q1"),
        ("这一季度", "2025Q1"),
        ("去年同期", "2024Q1"),
        ("2024 年同期", "2024Q1"),
        ("上季度", "2024Q4"),
    ],
)
def test_calendar_periods_are_read_as_articles_write_them(text, label):
    assert labels(text) == [label]
    assert period_bounds(label) is not None  # a label the loader accepts


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Alibaba's fiscal year ends on 31 March: fiscal 2025 runs April 2024 to March 2025.
        ("2025 财年第三季度", "2024Q4"),
        ("2025 财年第四季度", "2025Q1"),
        ("2025财年Q1", "2024Q2"),
        ("FY25 Q3", "2024Q4"),
        ("2025 财年", "2024-04-01/2025-03-31"),
        ("2025 财年上半年", "2024-04-01/2024-09-30"),
        ("第四财季", "2025Q1"),  # no year: the latest one by the article's period
    ],
)
def test_fiscal_periods_follow_the_company_fiscal_year(text, label):
    assert labels(text, year_end=ALIBABA) == [label]


def test_a_fiscal_year_that_is_a_calendar_year_keeps_the_calendar_label():
    assert labels("2024 财年", year_end=(12, 31)) == ["2024"]
    assert labels("2024 财年第四季度", year_end=(12, 31)) == ["2024Q4"]


def test_fiscal_parts_that_are_not_calendar_quarters_are_ranges():
    # A fiscal year ending 30 April (no company here has one) has quarters across months.
    part = fiscal_part(2025, (4, 30), 3, 1)
    assert (part.start, part.end) == (date(2024, 5, 1), date(2024, 7, 31))
    assert part.label == "2024-05-01/2024-07-31"
    assert fiscal_year(2025, ALIBABA).label == "2024-04-01/2025-03-31"


def test_event_dates_and_times_are_found_but_name_no_period():
    found = find_periods("5 月 30 日,2025-05-30 10:00 发布")
    assert [p.kind for p in found] == ["event", "event"]


def test_now_is_the_publication_date():
    assert labels("目前", published=date(2025, 3, 27)) == ["2025-03-27"]
    assert labels("自 2024 年 6 月上线以来", published=date(2025, 3, 28)) == ["2025-03-28"]
    assert labels("目前") == [""]  # unknown without a publication date


def test_the_main_period_is_the_one_named_most():
    text = "2025 年一季度成绩单。第一季度,腾讯...一季度...2024 年同期...2024 年全年"
    assert main_period(find_periods(text)).label == "2025Q1"
    assert main_period(find_periods("2024 年...第四季度...2024 年...2024 年")).label == "2024"
    assert main_period([], published=date(2025, 6, 1)).label == "2025"


def test_the_main_period_is_over_by_the_publication_date():
    # 2026 财年 is Alibaba's fiscal year from April 2025: no calendar 2026 in an August article
    text = "第二季度...阿里 2026 财年第一季度(即 2025 年 4-6 月)...第二季度...当季"
    found = find_periods(text)
    assert main_period(found, published=date(2025, 8, 31)).label == "2025Q2"
    assert labels("截至 6 月底的六个月", main=quarter(2025, 2)) == ["2025-01-01/2025-06-30"]
    assert labels("四季度", main=quarter(2025, 2), published=date(2025, 8, 31)) == ["2024Q4"]


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2024, 1, 1), date(2024, 12, 31), "2024"),
        (date(2024, 10, 1), date(2024, 12, 31), "2024Q4"),
        (date(2024, 12, 1), date(2024, 12, 31), "2024-12"),
        (date(2024, 12, 31), date(2024, 12, 31), "2024-12-31"),
        (date(2024, 4, 1), date(2025, 3, 31), "2024-04-01/2025-03-31"),
        (date(2024, 11, 1), date(2025, 1, 31), "2024-11-01/2025-01-31"),
    ],
)
def test_labels_are_the_contracts(start, end, label):
    assert period_label(start, end) == label
    assert period_bounds(label) == (start, end)
