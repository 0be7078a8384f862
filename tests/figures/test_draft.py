"""The draft command: one candidate row per number, most of them right."""

import csv
import re
import shutil
from pathlib import Path

from orchestration.figures.__main__ import main
from orchestration.figures.draft import draft_rows
from orchestration.figures.draft_words import BUSINESSES, Business, businesses, fiscal_year_ends
from orchestration.figures.numbers import same_value
from orchestration.figures.provenance import SourceText, load_text
from orchestration.ingestion.load import read_raw
from orchestration.paths import SEEDS_DIR
from tests.conftest import copy_raw
from tests.sources import FIXTURE, SEED_TEXT, needs_seed_text


@needs_seed_text
def test_the_draft_of_the_seed_finds_nine_in_ten_curated_values(tmp_path):
    drafted = [c.row for c in draft_rows(load_text(SEED_TEXT), "draft")]
    curated = read_raw(copy_raw(tmp_path / "raw")).figures
    found = [
        any(
            same_value(abs(float(d["value"])), abs(f.value)) and d["company"] == f.company
            for d in drafted
        )
        for f in curated.itertuples()
    ]
    recall = sum(found) / len(found)
    print(f"draft recall on the seed: {recall:.1%} of {len(found)} curated figures")
    assert recall >= 0.9
    assert all(d["quote_zh"] and d["quote_zh"] in load_text(SEED_TEXT).zh for d in drafted)


def test_the_command_writes_a_draft_that_the_pipeline_can_read(tmp_path, capsys):
    folder = tmp_path / "raw" / "synthetic-2025-01-01"
    shutil.copytree(FIXTURE, folder)
    (folder / "figures.csv").unlink()
    assert main(["draft", str(folder / "article.txt")]) == 0
    assert "3 candidate figures written" in capsys.readouterr().out
    rows = list(csv.DictReader((folder / "figures.csv").open(encoding="utf-8")))
    assert [(r["company"], r["value"], r["unit"], r["measure"]) for r in rows] == [
        ("tencent", "100000000000", "CNY", "level"),
        ("tencent", "5", "percent", "yoy_growth"),
        ("baidu", "800000", "rides", "level"),
    ]
    assert rows[0]["quote_en"] == "In 2023" or "100 billion yuan" in rows[0]["quote_en"]
    batch = read_raw(folder.parent)
    # the draft parses; what is still wrong comes back as rejections with reasons
    assert len(batch.figures) + len(batch.rejected) == 3
    assert all("line" in reason for reason in batch.rejected.reason)


def test_an_existing_figures_csv_is_never_overwritten(tmp_path):
    folder = Path(shutil.copytree(FIXTURE, tmp_path / "x"))
    before = (folder / "figures.csv").read_text(encoding="utf-8")
    assert main(["draft", str(folder / "article.txt")]) == 0
    assert (folder / "figures.csv").read_text(encoding="utf-8") == before
    assert (folder / "figures.draft.csv").is_file()


def draft(zh: str, en: str = "") -> list[dict[str, str]]:
    return [c.row for c in draft_rows(SourceText(Path("article.txt"), zh, en), "t")]


def test_a_quarterly_article_gets_quarters_segments_and_the_units_metrics_require():
    rows = draft(
        "5 月 30 日,三家公司公布了一季度业绩。\n"
        "腾讯 2025 年第一季度游戏收入为 595 亿元,同比增长 24%。"
        "B 站第一季度日活跃用户达到 1.07 亿。据测算,拼多多一季度 GMV 约为 1.1 万亿元。\n"
    )
    got = [
        (r["value"], r["company"], r["segment"], r["metric"], r["period"], r["unit"]) for r in rows
    ]
    assert got == [
        ("59500000000", "tencent", "games", "revenue", "2025Q1", "CNY"),
        ("24", "tencent", "games", "revenue", "2025Q1", "percent"),
        ("107000000", "bilibili", "total", "dau", "2025Q1", "users"),
        ("1100000000000", "pdd", "ecommerce", "gmv", "2025Q1", "CNY"),
    ]  # no row for the 30 of the date, nor for 三家
    assert rows[3]["qualifier"] == "approx"


def test_a_period_stated_once_holds_for_its_paragraph_only():
    rows = draft(
        "2025 年一季度,三家公司的成绩单。2025 年第一季度,腾讯营收 1800 亿元。\n"
        "2024 年第四季度,快手营收 354 亿元。其中线上营销服务收入 206 亿元。\n"
        "快手本季度日活跃用户 4.08 亿,去年同期为 3.94 亿。\n"
    )
    periods = {r["value"]: r["period"] for r in rows}
    assert periods["180000000000"] == "2025Q1"
    assert periods["35400000000"] == periods["20600000000"] == "2024Q4"  # the paragraph's
    assert periods["408000000"] == "2025Q1"  # a new paragraph: the article's period again
    assert periods["394000000"] == "2024Q1"  # 去年同期


def test_fiscal_quarters_follow_the_company_fiscal_year_end():
    assert fiscal_year_ends()["alibaba"] == (3, 31)
    assert fiscal_year_ends()["tencent"] == (12, 31)
    rows = draft(
        "阿里巴巴 2025 财年第三季度收入 2801 亿元,同比增长 8%。\n"
        "整个 2025 财年,阿里巴巴收入 9963 亿元。\n"
    )
    assert [r["period"] for r in rows] == ["2024Q4", "2024Q4", "2024-04-01/2025-03-31"]
    assert "fiscal year ends 03-31" in rows[0]["note"]
    assert rows[2]["period_start"] == "2024-04-01" and rows[2]["period_end"] == "2025-03-31"


def test_business_lines_put_a_figure_in_their_segment():
    rows = draft(
        "腾讯 2025 年第一季度游戏收入 595 亿元。其中,本土市场游戏收入 429 亿元,同比增长 24%;"
        "国际市场游戏收入 166 亿元。营销服务收入 319 亿元,占总收入的 18%。\n"
    )
    got = [(r["value"], r["business"], r["scope"], r["segment"], r["measure"]) for r in rows]
    assert got == [
        ("59500000000", "", "segment", "games", "level"),
        ("42900000000", "Domestic games", "unit", "games", "level"),
        ("24", "Domestic games", "unit", "games", "yoy_growth"),
        ("16600000000", "International games", "unit", "overseas", "level"),
        ("31900000000", "Marketing services", "segment", "advertising", "level"),
        ("18", "Marketing services", "segment", "advertising", "share_of_company_revenue"),
    ]


def test_dates_times_counts_names_and_page_furniture_are_not_drafted():
    rows = draft(
        "2025-05-30 10:00\n测试编辑部 阅读 3.1 万 评论 12\n"
        "5 月 30 日,5 家公司中有 3 家发布了财报,两家公司表示做了 8 年。\n"
        "小米 15 Ultra 售价 4000-5000 元,88VIP 会员和“澎湃OS 2”也在列,低于市场预期的 1027 亿元。\n"
        "毛利率同比提升 2.1 个百分点。\n责任编辑:李明\n点击阅读原文\n1 / 3\n"
    )
    assert rows == []


def test_the_growth_before_its_level_and_signed_rates_are_read():
    rows = draft(
        "2024 年第四季度,腾讯营收同比增长 11% 至 1724 亿元;拼多多营收同比-3%,环比下降 2%。\n"
    )
    got = [(r["value"], r["measure"], r["unit"]) for r in rows]
    assert got == [
        ("11", "yoy_growth", "percent"),
        ("172400000000", "level", "CNY"),
        ("-3", "yoy_growth", "percent"),
        ("-2", "qoq_growth", "percent"),  # 环比 of a quarter: against the previous quarter
    ]


def test_respectively_pairs_each_number_with_its_business():
    rows = draft(
        "拼多多在线营销服务收入 494 亿元,交易服务收入 499 亿元,同比分别增长 24% 和 72%。\n"
    )
    got = [(r["value"], r["business"], r["segment"]) for r in rows]
    assert got[2:] == [
        ("24", "Online marketing services", "advertising"),
        ("72", "Transaction services", "ecommerce"),
    ]


def test_business_lines_are_read_from_the_seeds_when_they_have_them(tmp_path):
    for name in ("lookup_companies.csv", "lookup_segments.csv"):
        shutil.copy(SEEDS_DIR / name, tmp_path / name)
    assert businesses(tmp_path) == tuple(Business(*b) for b in BUSINESSES)  # no file: built in
    (tmp_path / "lookup_businesses.csv").write_text(
        "business_id,company_id,name_en,name_zh,segment_id,aliases\n"
        "tencent-fbs,tencent,FinTech and Business Services,金融科技及企业服务,ai,金融科技;企业服务\n"
        "bad,tencent,Unknown,未知,not-a-segment,未知\n",
        encoding="utf-8",
    )
    businesses.cache_clear()
    try:
        found = businesses(tmp_path)
        assert found[0].name_en == "FinTech and Business Services" and found[0].segment == "ai"
        assert re.search(found[0].pattern, "腾讯企业服务收入")
        assert all(b.name_en != "Unknown" for b in found)  # an unknown segment is left out
        assert found[1:] == tuple(Business(*b) for b in BUSINESSES)
    finally:
        businesses.cache_clear()


def test_a_sum_in_another_currency_is_drafted_without_a_unit_and_says_why():
    [row] = draft("据测算,Temu 三季度 GMV 约 200 亿美元。\n")
    assert (row["metric"], row["unit"]) == ("gmv", "")
    assert "foreign currency" in row["note"]


def test_numbers_about_companies_the_warehouse_does_not_cover_are_not_drafted():
    rows = draft(
        "腾讯音乐 2024 年营收 284 亿元。美团 2024 年营收 3376 亿元,其中核心本地商业收入 2502 亿元。"
        "腾讯 2024 年营收 6603 亿元。\n"
    )
    assert [(r["company"], r["value"]) for r in rows] == [("tencent", "660300000000")]
