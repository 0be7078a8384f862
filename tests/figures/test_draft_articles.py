"""The drafter on whole articles whose figures are known (tests/fixtures/articles).

Each article has its expected figures beside it; orchestration/figures/scoring.py matches the draft
against them. The targets: at least 95% of the values found, at least 90% of the matched rows
with the right period, at most 5 drafted rows that are no figure. The seed article is scored
and reported, not held to them (its curated figures carry knowledge the text does not state).
"""

import shutil

import pytest

from orchestration.figures.__main__ import main
from orchestration.figures.scoring import (
    ARTICLES_DIR,
    report,
    score_article,
    score_rows,
    seed_article,
)
from orchestration.ingestion.load import read_raw

ARTICLES = sorted(ARTICLES_DIR.glob("*.txt"))
MIN_RECALL, MIN_PERIODS, MAX_STRAYS = 0.95, 0.90, 5
SOURCE_YAML = """source_id: {id}
title_zh: "测试用文章"
publisher: "Test fixtures"
publication_date: 2025-06-01
languages: [zh]
authoritative_language: zh
citation: "Test article (not a real publication)."
text: article.txt
"""


def test_there_are_articles_with_expected_figures():
    assert len(ARTICLES) >= 3
    assert all(a.with_suffix(".expected.csv").is_file() for a in ARTICLES)


@pytest.mark.parametrize("article", ARTICLES, ids=lambda p: p.stem)
def test_the_draft_finds_the_figures_of_an_article(article):
    score = score_article(article)
    print(report([score], verbose=True))
    assert score.recall >= MIN_RECALL, [m["quote_zh"] for m in score.misses]
    assert score.share("period") >= MIN_PERIODS
    assert score.strays <= MAX_STRAYS, [r["quote_zh"] for r in score.stray_rows]


@pytest.mark.parametrize("article", ARTICLES, ids=lambda p: p.stem)
def test_a_draft_in_raw_draft_passes_the_contract_but_for_what_a_curator_fills(article, tmp_path):
    folder = tmp_path / "raw" / "_draft" / article.stem
    folder.mkdir(parents=True)
    shutil.copy(article, folder / "article.txt")
    (folder / "source.yaml").write_text(SOURCE_YAML.format(id=article.stem), encoding="utf-8")
    assert main(["draft", str(folder / "article.txt")]) == 0
    # raw/ itself skips _draft; checked on its own (as make check-source does) it loads
    assert read_raw(tmp_path / "raw").figures.empty
    batch = read_raw(folder.parent)
    assert len(batch.figures) > 0
    # what is left is a guess the drafter could not make (a metric, a unit), nothing else
    assert all("is empty" in reason for reason in batch.rejected.reason), list(
        batch.rejected.reason
    )


def test_the_scorer_counts_misses_strays_and_wrong_fields():
    expected = [
        {"value": "100", "company": "tencent", "metric": "revenue", "period": "2025Q1",
         "unit": "CNY", "segment": "games", "quote_zh": "游戏收入 100 元"},
        {"value": "5", "company": "tencent", "metric": "revenue", "period": "2025Q1",
         "unit": "percent", "segment": "games", "quote_zh": ""},
    ]  # fmt: skip
    drafted = [
        {**expected[0], "period": "2025-01-01/2025-03-31", "quote_zh": "腾讯游戏收入 100 元"},
        {**expected[0], "value": "30", "quote_zh": "5 月 30 日"},
    ]
    score = score_rows("x", drafted, expected)
    assert (score.found, score.expected, score.strays, score.matched) == (1, 2, 1, 1)
    assert score.recall == 0.5
    assert score.share("period") == 1.0  # the same first and last day
    drafted[0]["segment"] = "total"
    assert score_rows("x", drafted, expected).share("segment") == 0.0


def test_the_seed_article_is_scored_and_reported():
    seed = seed_article()
    if seed is None:
        pytest.skip("the seed article is not on this machine")
    score = score_article(*seed)
    print(report([score], verbose=True))
    assert score.expected == 102
