"""Business lines: a later source that names Tencent's businesses its own way joins their series.

The fixture `synthetic-2025q1-tencent` (made-up first-quarter figures) states games revenue with
no business named, advertising as 广告 and 营销服务, international games under the games segment
and domestic games only by the alias 本土市场游戏. Beside the seed it must give one business line
per business, with 2024 and 2025Q1 in one series, and growth where both periods are stated.
"""

import shutil
from pathlib import Path

import pytest

from orchestration.figures.__main__ import main
from orchestration.figures.dimensions import (
    figures_warnings,
    load_businesses,
    load_metric_names,
    name_key,
    resolve,
    row_warnings,
)
from tests.conftest import SEED_SOURCE, failed_checks, query, run_warehouse

SEED = SEED_SOURCE
QUARTER = Path(__file__).parent / "fixtures" / "synthetic-2025q1-tencent"
# A row naming a business no line lists: it must load, stand apart, and be seen.
UNLISTED_ROW = (
    "synq1-009,tencent,Cloud gaming,云游戏,unit,games,revenue,level,2025Q1,2025-01-01,"
    "2025-03-31,2000000000,CNY,exact,云游戏收入 20 亿元,cloud gaming revenue of 2 billion yuan,,"
    "synthetic\n"
)
# Two rows stating Tencent's whole hardware segment, which no line of the dimension is, each by a
# name of its own: one provisional whole-segment line, ranked once among the hardware companies.
UNLISTED_WHOLE_SEGMENT_ROWS = (
    "synq1-010,tencent,Devices,,segment,hardware,revenue,level,2025Q1,2025-01-01,2025-03-31,"
    "3000000000,CNY,exact,设备收入 30 亿元,devices revenue of 3 billion yuan,,synthetic\n"
    "synq1-011,tencent,Hardware,硬件,segment,hardware,revenue,level,2025Q1,2025-01-01,"
    "2025-03-31,3000000000,CNY,exact,硬件收入 30 亿元,hardware revenue of 3 billion yuan,,"
    "synthetic\n"
)


def raw_with(tmp_path: Path, *folders: Path) -> Path:
    """A temporary raw/ holding the seed folder and the given fixture folders."""
    raw = tmp_path / "raw"
    for folder in (SEED, *folders):
        shutil.copytree(folder, raw / folder.name)
    return raw


def test_every_business_the_seed_names_is_a_line_of_the_dimension(tmp_path):
    raw = raw_with(tmp_path, QUARTER)
    assert figures_warnings(raw / SEED.name / "figures.csv") == []
    assert figures_warnings(raw / QUARTER.name / "figures.csv") == []


@pytest.mark.parametrize(
    ("segment", "scope", "business", "business_zh", "expected"),
    [
        ("advertising", "segment", "Marketing services", "营销服务", "tencent.marketing_services"),
        ("advertising", "segment", "", "广告", "tencent.marketing_services"),
        ("advertising", "segment", "", "", "tencent.marketing_services"),  # the whole segment
        ("advertising", "segment", "Ads of a new kind", "", "tencent.marketing_services"),
        ("games", "segment", "", "", "tencent.games"),
        ("games", "unit", "international GAMES", "", "tencent.international_games"),
        ("games", "unit", "", "本土市场游戏", "tencent.domestic_games"),
        ("games", "unit", "Domestic gaming", "国内游戏", "tencent.domestic_games"),
        ("games", "unit", "Cloud gaming", "云游戏", None),
        ("games", "unit", "", "", None),  # a part that names no part
        ("hardware", "segment", "", "", None),  # no whole-segment line for it
    ],
)
def test_a_figure_joins_the_line_its_names_or_its_scope_point_to(
    segment, scope, business, business_zh, expected
):
    line = resolve(load_businesses(), "tencent", segment, scope, business, business_zh).line
    assert (line.business_id if line else None) == expected


@pytest.mark.parametrize("business", ["Devices", ""])
def test_check_source_says_a_whole_segment_row_no_line_names_joins_its_provisional_line(business):
    row = {"company": "tencent", "segment": "hardware", "scope": "segment", "metric": "revenue"}
    warnings = row_warnings(
        {**row, "business": business, "business_zh": ""}, 2, load_businesses(), load_metric_names()
    )
    assert [w.column for w in warnings] == ["business"]
    assert "the row joins tencent|hardware|, a provisional line of tencent's whole hardware" in (
        warnings[0].message
    )


def test_names_compare_case_and_spaces_aside():
    assert name_key("AI 云服务") == name_key("AI云服务") == name_key("ai\u3000云服务")
    assert name_key("Marketing Services") == name_key("marketing services")


def test_check_source_warns_of_unknown_businesses_and_metrics_with_the_nearest_name(
    tmp_path, capsys
):
    raw = raw_with(tmp_path, QUARTER)
    figures = raw / QUARTER.name / "figures.csv"
    text = figures.read_text(encoding="utf-8")
    text = text.replace(",International games,国际市场游戏,", ",Internatonal games,国际市场的游戏,")
    text = text.replace(",,本土市场游戏,unit,", ",,本土游戏,unit,")
    figures.write_text(text + UNLISTED_ROW, encoding="utf-8")

    assert main(["check", str(raw / QUARTER.name)]) == 0  # warnings only: every row loads
    out = capsys.readouterr().out
    assert "9 figures pass the contract; 0 rejected." in out
    warnings = [line.strip() for line in out.splitlines() if "warning:" in line]
    assert len(warnings) == 5, out
    line_7, line_7_zh, line_8, line_10, line_10_zh = warnings
    assert "line 7: business 'Internatonal games' is not a name of any tencent business line" in (
        line_7
    )
    assert "nearest: 'International games' (tencent.international_games)" in line_7
    assert "the row becomes a business line of its own" in line_7
    assert "line 7: business_zh '国际市场的游戏'" in line_7_zh
    assert "nearest: '国际市场游戏' (tencent.international_games)" in line_7_zh
    assert "line 8: business_zh '本土游戏'" in line_8
    assert "nearest: '本土市场游戏' (tencent.domestic_games)" in line_8
    assert "line 10: business 'Cloud gaming'" in line_10 and "line 10: business_zh" in line_10_zh

    # a metric missing from lookup_metrics.csv: rejected by the contract, and its nearest key
    figures.write_text(text.replace(",revenue,yoy_growth,", ",revenues,yoy_growth,"), "utf-8")
    assert main(["check", str(raw / QUARTER.name)]) == 1
    out = capsys.readouterr().out
    assert "line 4: metric 'revenues' is not in lookup_metrics.csv; nearest: 'revenue'" in out


@pytest.mark.integration
def test_a_later_source_joins_the_series_of_the_business_it_names_its_own_way(tmp_path):
    raw = raw_with(tmp_path, QUARTER)
    figures = raw / QUARTER.name / "figures.csv"
    figures.write_text(
        figures.read_text(encoding="utf-8") + UNLISTED_ROW + UNLISTED_WHOLE_SEGMENT_ROWS,
        encoding="utf-8",
    )
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_warehouse(warehouse, raw)
    assert result.success
    # the unlisted business is the one thing the checks warn of (a warning, not a failure)
    assert [c for c in failed_checks(result) if "is_conformed_business" not in c] == []
    assert any("is_conformed_business" in c for c in failed_checks(result))

    # one row per business line and period: the seed's 2024 and the fixture's quarters
    lines = query(
        warehouse,
        "select business_id, segment_id, business_key, period_label, revenue_cny_bn "
        "from marts.company_segments where company_id = 'tencent' "
        "and business_id in ('tencent.games', 'tencent.marketing_services', "
        "'tencent.international_games', 'tencent.domestic_games') order by 1, 4",
    )
    assert lines == [
        ("tencent.domestic_games", "games", "Domestic games", "2024", 139.7),
        ("tencent.domestic_games", "games", "Domestic games", "2025Q1", 44.0),
        ("tencent.games", "games", "", "2024", 197.7),
        ("tencent.games", "games", "", "2024Q1", 50.0),
        ("tencent.games", "games", "", "2025Q1", 60.0),
        # filed under overseas by the seed and under games by the fixture: one line
        ("tencent.international_games", "overseas", "International games", "2024", 58.0),
        ("tencent.international_games", "overseas", "International games", "2025Q1", 16.0),
        # 'Marketing services' in the seed, 广告 / 营销服务 / 网络广告 in the fixture
        ("tencent.marketing_services", "advertising", "", "2024", 121.4),
        ("tencent.marketing_services", "advertising", "", "2024Q4", 35.0),
        ("tencent.marketing_services", "advertising", "", "2025Q1", 32.0),
    ]

    # the series: growth derived only where both periods are stated
    series = query(
        warehouse,
        "select business_id, period_label, previous_quarter_label, prior_year_period_label, "
        "derived_qoq_growth_pct, derived_yoy_growth_pct from marts.business_series "
        "where business_id in ('tencent.games', 'tencent.marketing_services') "
        "and metric_id = 'revenue' and measure_id = 'level' order by 1, 2",
    )
    assert series == [
        ("tencent.games", "2024", None, None, None, None),
        ("tencent.games", "2024Q1", None, None, None, None),
        ("tencent.games", "2025Q1", None, "2024Q1", None, 20.0),
        ("tencent.marketing_services", "2024", None, None, None, None),
        ("tencent.marketing_services", "2024Q4", None, None, None, None),
        ("tencent.marketing_services", "2025Q1", "2024Q4", None, -8.571, None),
    ]
    derived = query(
        warehouse,
        "select derived_figure_id, measure_id, value, is_derived, formula, input_figure_ids "
        "from marts.derived_figures where derivation like '%_growth_from_levels' "
        "and company_id = 'tencent' and business_id <> 'tencent.evergreen_games' order by 1",
    )
    assert derived == [
        (
            "qoq_growth_from_levels|tencent|advertising||revenue|2024Q4,2025Q1",
            "qoq_growth",
            -8.571,
            True,
            "100 * (value / previous_quarter_value - 1)",
            "synq1-005,synq1-004",
        ),
        (
            "yoy_growth_from_levels|tencent|games||revenue|2024Q1,2025Q1",
            "yoy_growth",
            20.0,
            True,
            "100 * (value / prior_year_value - 1)",
            "synq1-002,synq1-001",
        ),
    ]

    # 2024 advertising restated under another name is the same fact: kept, never counted twice
    assert query(
        warehouse,
        "select figure_id, is_latest_statement, n_statements, has_conflicting_statements "
        "from marts.figures where business_id = 'tencent.marketing_services' "
        "and measure_id = 'level' and period_label = '2024' order by 1",
    ) == [("hc250327-069", False, 2, False), ("synq1-008", True, 2, False)]

    # the dimension: every seed line, the fixture counted in, the unlisted name visible
    businesses = dict(
        query(
            warehouse,
            "select business_id, n_sources from marts.businesses "
            "where business_id like 'tencent%' and is_conformed_business",
        )
    )
    assert businesses["tencent.games"] == 2 and businesses["tencent.marketing_services"] == 2
    assert query(
        warehouse,
        "select business_id, segment_id, business_name_en, business_name_zh, n_figures "
        "from marts.businesses where not is_conformed_business order by 1",
    ) == [
        ("tencent|games|Cloud gaming", "games", "Cloud gaming", "云游戏", 1),
        # whole-segment rows that no line names are the one provisional line of that segment
        ("tencent|hardware|", "hardware", "Hardware", "硬件", 2),
    ]
    assert query(
        warehouse,
        "select figure_id from marts.figures where not is_conformed_business order by 1",
    ) == [("synq1-009",), ("synq1-010",), ("synq1-011",)]
    # the company's whole segment, whatever each row calls it: one line and one fact, stated
    # twice, ranked once
    assert query(
        warehouse,
        "select business_id, business_key, scope, revenue_cny_bn "
        "from marts.company_segments where company_id = 'tencent' and segment_id = 'hardware'",
    ) == [("tencent|hardware|", "", "segment", 3.0)]
    assert query(
        warehouse,
        "select count(distinct fact_id), sum(is_latest_statement::int), max(n_statements), "
        "bool_or(has_conflicting_statements) from marts.figures "
        "where figure_id in ('synq1-010', 'synq1-011')",
    ) == [(1, 1, 2, False)]
    assert query(
        warehouse,
        "select segment_ranking_id, business_id, revenue_cny_bn from marts.segment_rankings "
        "where company_id = 'tencent' and segment_id = 'hardware'",
    ) == [("hardware|2025Q1|tencent", "tencent|hardware|", 3.0)]

    # the SQL rule and the Python rule of check-source put every figure on the same line
    known = load_businesses()
    for figure_id, company, segment, scope, business, business_zh, business_id in query(
        warehouse,
        "select figure_id, company_id, segment_id, scope, business_en, business_zh, "
        "business_id from marts.figures where is_conformed_business",
    ):
        line = resolve(known, company, segment, scope, business, business_zh).line
        assert line is not None and line.business_id == business_id, figure_id
