"""Every number of a source's text is a figure, a date, or excluded with a reason."""

from pathlib import Path

import pytest

from orchestration.figures.coverage import (
    DATE,
    EXCLUDED,
    FIGURE,
    UNCOVERED,
    Exclusion,
    ExclusionsProblem,
    coverage,
    read_exclusions,
    summary,
    unused_exclusions,
)
from orchestration.figures.provenance import SourceText, load_text
from orchestration.ingestion.load import read_raw
from orchestration.ingestion.raw_files import EXCLUSIONS_FILE
from tests.conftest import SEED_SOURCE, copy_raw
from tests.sources import SEED_TEXT, needs_seed_text

TEXT = SourceText(
    path=Path("made-up.txt"),
    zh="2024 年,某公司收入 10 亿元,同比增长 5%,在 4000-5000 元价位段排名第一。",
    en="",
)
FIGURES = [
    {"figure_id": "a", "value": 1e9, "unit": "CNY", "quote_zh": "收入 10 亿元"},
    {"figure_id": "b", "value": 5, "unit": "percent", "quote_zh": "同比增长 5%"},
]


def statuses(rows):
    return [(r.number, r.status) for r in rows]


def test_each_number_gets_a_status():
    rows = coverage(TEXT, FIGURES, [Exclusion("zh", "4000-5000 元价位段", "a price band")])
    assert statuses(rows) == [
        ("2024", DATE),
        ("10 亿", FIGURE),
        ("5%", FIGURE),
        ("4000", EXCLUDED),
        ("5000", EXCLUDED),
        ("第一", UNCOVERED),
    ]
    assert summary(rows)["zh"]["covered_pct"] == round(100 * 5 / 6, 1)


def test_a_quote_covers_only_the_number_of_its_own_value():
    rows = coverage(
        TEXT, [{"figure_id": "a", "value": 2e9, "unit": "CNY", "quote_zh": "收入 10 亿元"}]
    )
    assert ("10 亿", UNCOVERED) in statuses(rows)


def test_an_exclusion_that_matches_nothing_is_reported():
    stale = Exclusion("zh", "不存在的句子 3", "left over")
    assert unused_exclusions(TEXT, [stale]) == [stale]


def test_a_malformed_exclusions_file_names_its_line(tmp_path):
    path = tmp_path / EXCLUSIONS_FILE
    path.write_text("language,quote,reason\nfr,un,deux\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_exclusions(path)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"quote,reason\nx,y\n", "exclusions.csv: missing column 'language' in the header"),
        (b"language,quote,reason,colour\nzh,x,y,z\n", "unknown or repeated column"),
        (b"language,quote,reason\nzh,x,y,z\n", "line 2: 4 fields where the header has 3"),
        (b"language,quote,reason\nzh,x\n", "line 2: 2 fields where the header has 3"),
        (b'language,quote,reason\nzh,"x\n', "malformed CSV at line"),
        ("language,quote,reason\nzh,游戏,y\n".encode("gbk"), "is not UTF-8 (line 2"),
        (b"language,quote,reason\nzh,x\x1b[2J,y\n", "line 2: quote contains a control character"),
        (b"language,quote,reason\nzh," + b"x" * 2001 + b",y\n", "line 2: quote is 2001 characters"),
    ],
)
def test_every_fault_of_an_exclusions_file_is_one_line_naming_it(tmp_path, data, words):
    path = tmp_path / EXCLUSIONS_FILE
    path.write_bytes(data)
    with pytest.raises(ExclusionsProblem) as raised:
        read_exclusions(path)
    message = str(raised.value)
    assert words in message and "\n" not in message, message
    assert message.startswith(str(path)), message


def test_an_exclusions_file_that_links_out_of_its_folder_is_not_read(tmp_path):
    (tmp_path / "outside.csv").write_text("language,quote,reason\nzh,x,y\n", encoding="utf-8")
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / EXCLUSIONS_FILE).symlink_to(tmp_path / "outside.csv")
    with pytest.raises(ExclusionsProblem, match="is a link to a file outside"):
        read_exclusions(folder / EXCLUSIONS_FILE)


@needs_seed_text
def test_the_seed_article_is_fully_covered_in_both_languages(tmp_path):
    folder = SEED_SOURCE
    figures = read_raw(copy_raw(tmp_path / "raw")).figures.to_dict("records")
    exclusions = read_exclusions(folder / EXCLUSIONS_FILE)
    text = load_text(SEED_TEXT)
    rows = coverage(text, figures, exclusions)
    uncovered = [(r.language, r.number, r.context) for r in rows if r.status == UNCOVERED]
    assert uncovered == []
    counts = summary(rows)
    assert counts["zh"]["figure"] >= 100 and counts["en"]["figure"] >= 100
    assert unused_exclusions(text, exclusions) == []
    used = {i for r in rows if r.status == FIGURE for i in r.detail.split(",")}
    assert used == {f["figure_id"] for f in figures}  # every figure states a number of the text
    assert SEED_TEXT.is_file()
