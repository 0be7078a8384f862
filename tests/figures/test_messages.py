"""Rejection messages say what to fix, and read the same from the SQL loader and from pandera.

Each case breaks one row of the synthetic fixture (a copy in a temporary raw/), loads it with the
real loader and states the words its reason must (and must not) contain.
"""

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from orchestration.figures.messages import (
    closest_passage,
    first_difference,
    period_mismatch,
    plain,
    quote_not_in_text,
    what_quote_states,
)
from orchestration.ingestion.load import read_raw
from orchestration.schemas.figures import FigureSchema
from orchestration.schemas.validation import validate_rows

FIXTURE = Path(__file__).parents[1] / "fixtures" / "synthetic-2025-01-01"


@dataclass(frozen=True)
class Case:
    name: str
    figures: tuple[tuple[str, str], ...] = ()  # (old, new) replacements in figures.csv
    article: tuple[tuple[str, str], ...] = ()  # the same in article.txt
    says: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    pandera_agrees: bool = True  # a rule pandera checks too (the quote-in-text rule it does not)
    column: str | None = None


CASES = [
    Case(
        "money value ten times too small",
        figures=(("100000000000,CNY", "10000000000,CNY"),),
        says=(
            "figure syn-001: quote_zh '游戏收入 1000 亿元' does not state value 10000000000 CNY: "
            "the quote states 1000 亿 = 100000000000, the row says 10000000000 "
            "(a factor of 10 apart) (quote_en: 'games revenue of 100 billion yuan'); "
            "values are in base units: 1977 亿元 is 197700000000",
        ),
    ),
    Case(
        "percent value that the quote does not state",
        figures=(("2023-12-31,5,percent", "2023-12-31,6,percent"),),
        says=(
            "quote_zh '同比增长 5%' does not state value 6 percent: the quote states 5%, "
            "the row says 6 (quote_en: 'up 5% year on year')",
        ),  # fmt: skip
        never=("base units",),
    ),
    Case(
        "a Chinese-only row says nothing of an English quote",
        figures=(
            (
                "100000000000,CNY,exact,游戏收入 1000 亿元,games revenue of 100 billion yuan",
                "10000000000,CNY,exact,游戏收入 1000 亿元,",
            ),
        ),  # fmt: skip
        says=("the quote states 1000 亿 = 100000000000, the row says 10000000000",),
        never=("quote_en", "None"),
    ),
    Case(
        "a quote with no number",
        figures=((",同比增长 5%,", ",同比增长,"),),
        says=("quote_zh '同比增长' does not state value 5 percent: the quote states no number",),
    ),
    Case(
        "a quote that states an amount where the row is a percent",
        figures=((",同比增长 5%,", ",游戏收入 1000 亿元,"),),
        says=("the quote states no percent (only 1000 亿 = 100000000000), the row says 5",),
    ),
    Case(
        "period_end off by a day",
        figures=(("2023-01-01,2023-12-31,1000", "2023-01-01,2023-12-30,1000"),),
        says=(
            "period '2023' does not match period_start 2023-01-01 and period_end 2023-12-30: "
            "2023 runs from 2023-01-01 to 2023-12-31, so period_end should be 2023-12-31",
        ),
    ),
    Case(
        "both dates of a quarter wrong",
        figures=(("2023Q4,2023-10-01,2023-12-31", "2023Q4,2023-07-01,2023-09-30"),),
        says=(
            "2023Q4 runs from 2023-10-01 to 2023-12-31, so period_start should be 2023-10-01 "
            "and period_end 2023-12-31",
        ),  # fmt: skip
    ),
    Case(
        "a period label that names no period",
        figures=(("rides,level,2023Q4,2023-10-01", "rides,level,2023-13,2023-10-01"),),
        says=(
            "period '2023-13' does not match period_start 2023-10-01 and period_end "
            "2023-12-31: '2023-13' names no real period: fix the label",
        ),  # fmt: skip
    ),
    Case(
        "a quote with , where the text has ，",
        figures=((",同比增长 5%,", ',"1000 亿元,同比增长 5%",'),),
        article=(("1000 亿元,同比增长 5%", "1000 亿元，同比增长 5%"),),
        says=(
            "figure syn-002: quote_zh '1000 亿元,同比增长 5%' does not occur in article.txt: "
            "the closest passage is '1000 亿元，同比增长 5%', which differs at character 8 of "
            "the quote: ',' (COMMA) in the quote, '，' (FULLWIDTH COMMA) in the text",
        ),
        pandera_agrees=False,
        column="quote_zh",
    ),
    Case(
        "an English quote one word off",
        figures=(("provided 800 thousand rides", "provided 800 thousand trips"),),
        says=(
            "quote_en 'provided 800 thousand trips' does not occur in article.txt: the closest "
            "passage is 'provided 800 thousand rides', which differs at character 23",
        ),  # fmt: skip
        pandera_agrees=False,
        column="quote_en",
    ),
]


def _edit(path: Path, replacements: tuple[tuple[str, str], ...]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_message_says_what_to_fix(tmp_path, case):
    folder = Path(shutil.copytree(FIXTURE, tmp_path / FIXTURE.name))
    _edit(folder / "figures.csv", case.figures)
    _edit(folder / "article.txt", case.article)
    rejected = read_raw(tmp_path).rejected
    assert len(rejected) == 1, rejected.reason.tolist()
    (reason,) = rejected.reason
    for words in case.says:
        assert words in reason, reason
    for words in case.never:
        assert words not in reason, reason
    if case.column:
        assert rejected.column_name.iloc[0] == case.column
    if case.pandera_agrees:
        # the pandera model (run on a sample of loaded rows, and the reference) says the same
        frame = pd.read_csv(folder / "figures.csv", dtype=str, keep_default_na=False)
        _, problems = validate_rows(frame.replace("", None), FigureSchema)
        ((_, messages),) = problems.items()
        line = rejected.source_row.iloc[0]
        assert reason.split(f" line {line}: ", 1)[1] == "; ".join(m for _, m in messages)


def test_numbers_are_shown_as_figures_csv_writes_them():
    assert [plain(v) for v in (197700000000.0, "19770000000", 24.3, -57.2, "x")] == [
        "197700000000", "19770000000", "24.3", "-57.2", "x",
    ]  # fmt: skip


def test_what_a_quote_states_lists_the_numbers_of_the_rows_kind():
    assert what_quote_states("1977 亿元,同比增长 10%", "zh", 12, "percent") == (
        "the quote states 10%, the row says 12"
    )
    assert what_quote_states("增速重回双位数", "zh", 12, "percent") == (
        "the quote states 双位数 = 10 (at least), the row says 12"
    )
    assert what_quote_states("第五", "zh", 3, "rank") == "the quote states 第五 = 5, the row says 3"


def test_the_closest_passage_is_found_where_the_quote_drifts_from_the_text():
    text = "前文。腾讯游戏收入 1000 亿元,同比增长 5%。萝卜快跑提供了 80 万次服务。"
    assert closest_passage(text, "游戏收入1000 亿元") == "游戏收入 1000 亿元"
    assert first_difference("游戏收入1000 亿元", "游戏收入 1000 亿元") == (
        5,
        "'1' (DIGIT ONE)",
        "' ' (SPACE)",
    )
    assert closest_passage(text, "完全无关的句子") is None
    assert closest_passage("", "游戏收入") is None
    assert "nor anything close to it" in quote_not_in_text("quote_zh", "风马牛", text, "a.txt")


def test_a_quote_longer_than_its_passage_says_where_the_text_ends():
    assert first_difference("up 5% year on year, again", "up 5% year on year") == (
        19,
        "',' (COMMA)",
        "the end of the passage",
    )


def test_the_period_message_names_the_date_to_write():
    bounds = (date(2024, 10, 1), date(2024, 12, 31))
    assert period_mismatch("2024Q4", "2024-10-01", "2024-12-30", bounds).endswith(
        "2024Q4 runs from 2024-10-01 to 2024-12-31, so period_end should be 2024-12-31"
    )
    assert period_mismatch("2024Q4", "2024-10-02", "2024-12-31", bounds).endswith(
        "so period_start should be 2024-10-01"
    )
