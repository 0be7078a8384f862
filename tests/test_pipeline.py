"""End to end: real Dagster runs, real dbt, a real DuckDB file in a temporary folder."""

import re

import pytest

from orchestration.paths import PROJECT_ROOT
from tests.conftest import (
    SEED_FIGURES,
    copy_built,
    copy_raw,
    failed_checks,
    query,
    run_warehouse,
)

pytestmark = pytest.mark.integration


def test_the_marts_hold_the_figures_the_article_states(built_warehouse):
    (games,) = query(
        built_warehouse,
        "select revenue_cny_bn, revenue_yoy_growth_pct, implied_prior_year_revenue_cny_bn "
        "from marts.company_segments where company_segment_id = 'tencent|games||2024'",
    )
    assert games == (197.7, 10.0, 179.727)
    (xiaomi,) = query(
        built_warehouse,
        "select overseas_revenue_cny_bn, advertising_revenue_cny_bn, revenue_year "
        "from marts.companies where company_id = 'xiaomi'",
    )
    assert xiaomi == (153.3, 24.7, "2024")
    (ecommerce,) = query(
        built_warehouse,
        "select headline_period_label, leader_company_id, leader_revenue_cny_bn "
        "from marts.segments where segment_id = 'ecommerce'",
    )
    assert ecommerce == ("2024Q4", "jd", 307.1)


def test_every_curated_figure_reaches_the_fact_table(built_warehouse):
    data_lines = [
        line for line in SEED_FIGURES.read_text(encoding="utf-8").splitlines()[1:] if line
    ]
    (counts,) = query(
        built_warehouse,
        "select (select count(*) from raw.figures), (select count(*) from marts.figures), "
        "(select count(*) from raw.figures_rejected), "
        "(select count(*) from marts.figures where has_translation_discrepancy)",
    )
    assert counts[0] == counts[1] == len(data_lines) >= 100
    assert counts[2] == 0 and counts[3] >= 5


def test_a_second_run_changes_nothing(built_warehouse, tmp_path):
    warehouse, raw = copy_built(built_warehouse, tmp_path)  # a first run of the seed
    tables = [
        "raw.sources",
        "raw.figures",
        "raw.figures_rejected",
        "marts.figures",
        "marts.companies",
        "marts.segments",
        "marts.company_segments",
        "marts.segment_rankings",
    ]
    sql = " union all ".join(f"select '{t}', count(*) from {t}" for t in tables)
    first = query(warehouse, sql)
    assert run_warehouse(warehouse, raw).success
    assert query(warehouse, sql) == first


def test_a_bad_row_is_kept_and_reported_while_the_rest_builds(tmp_path):
    raw = copy_raw(tmp_path / "raw")
    figures = next(raw.glob("*/figures.csv"))
    lines = figures.read_text(encoding="utf-8").splitlines()
    lines.append(lines[1].replace("hc250327-001", "hc250327-999").replace(",tencent,", ",tencnet,"))
    figures.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_warehouse(tmp_path / "warehouse.duckdb", raw)
    assert result.success
    assert failed_checks(result) == ["figures_match_contract"]  # a warning, not a block
    ((reason, row),) = query(
        tmp_path / "warehouse.duckdb", "select reason, source_row from raw.figures_rejected"
    )
    assert "company 'tencnet'" in reason and row == len(lines)
    assert query(tmp_path / "warehouse.duckdb", "select count(*) from marts.figures") == [
        (len(lines) - 2,)
    ]


def test_a_reconciliation_test_fails_when_the_parts_do_not_add_up(tmp_path):
    raw = copy_raw(tmp_path / "raw")
    figures = next(raw.glob("*/figures.csv"))
    text = figures.read_text(encoding="utf-8")
    # Domestic games 149.7 bn instead of 139.7 bn: quotes changed too, so pandera passes.
    text = text.replace("139700000000", "149700000000").replace("1397 亿元", "1497 亿元")
    text = text.replace("139.7 billion", "149.7 billion")
    figures.write_text(text, encoding="utf-8")
    source = figures.parent / "source.yaml"  # the altered quotes are not in the article's text
    source.write_text(source.read_text(encoding="utf-8").replace("text:", "# text:"), "utf-8")
    result = run_warehouse(tmp_path / "warehouse.duckdb", raw)
    assert "assert_stated_parts_sum_to_stated_totals" in failed_checks(result)


def readme_sql() -> list[str]:
    """The README's query, then the example queries of docs/warehouse.md."""
    found = []
    for doc in ("README.md", "docs/warehouse.md"):
        text = (PROJECT_ROOT / doc).read_text(encoding="utf-8")
        found += re.findall(r"```sql\n(.*?)```", text, flags=re.DOTALL)
    return found


def test_the_readme_queries_return_what_the_article_says(built_warehouse):
    readme, *examples = readme_sql()
    assert readme == examples[0]  # the README shows the first example
    queries = examples
    results = [query(built_warehouse, sql) for sql in queries]
    assert all(results)
    tencent_games = results[0]
    assert tencent_games[0][:4] == ("tencent", "", 197.7, 10.0)
    advertising = results[1]
    assert [row[0] for row in advertising] == ["tencent", "kuaishou", "xiaomi", "bilibili"]
    discrepancies = {row[2] for row in results[2]}
    assert {"value", "scope", "company", "period"} <= discrepancies
