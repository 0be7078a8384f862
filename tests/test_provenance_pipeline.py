"""Provenance through the whole pipeline: discrepancies, coverage, and a second source."""

import shutil

import pytest

from tests.conftest import copy_raw, failed_checks, query, run_warehouse
from tests.sources import FIXTURE, needs_seed_text

pytestmark = pytest.mark.integration


def test_the_known_translation_errors_are_listed(built_warehouse):
    rows = query(
        built_warehouse,
        "select discrepancy, quote_zh, quote_en from marts.translation_discrepancies",
    )
    assert (
        "value",
        "连续六个季度保持三位数的同比增长",
        "maintained double-digit year-on-year growth for six consecutive quarters",
    ) in rows
    assert ("value", "计划投入千亿人民币", "plans to invest billions of yuan") in rows
    kinds = {zh: kind for kind, zh, _ in rows}
    assert kinds["加上国际数字商业集团的电商总营收为 1739 亿元"] == "company"
    assert set(kinds.values()) == {"value", "scope", "company", "period"}


@needs_seed_text
def test_the_seed_text_is_fully_covered_in_the_warehouse(built_warehouse):
    rows = query(
        built_warehouse,
        "select language, n_numbers, n_figures, n_uncovered, covered_pct "
        "from marts.source_coverage order by language",
    )
    assert [(r[0], r[3], r[4]) for r in rows] == [("en", 0, 100.0), ("zh", 0, 100.0)]
    assert all(r[2] >= 100 for r in rows)


def test_a_second_source_reaches_the_marts_with_no_code_change(tmp_path):
    raw = copy_raw(tmp_path / "raw")
    shutil.copytree(FIXTURE, raw / FIXTURE.name)
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_warehouse(warehouse, raw)
    assert result.success and failed_checks(result) == []
    assert query(
        warehouse,
        "select source_id, count(*) from marts.figures group by 1 order by 1",
    ) == [("hedgehog-2025-03-27", 102), ("synthetic-2025-01-01", 3)]
    assert query(
        warehouse,
        "select revenue_cny_bn, revenue_yoy_growth_pct from marts.company_segments "
        "where company_segment_id = 'tencent|games||2023'",
    ) == [(100.0, 5.0)]
    coverage = query(
        warehouse,
        "select language, covered_pct from marts.source_coverage "
        "where source_id = 'synthetic-2025-01-01' order by 1",
    )
    assert coverage == [("en", 100.0), ("zh", 100.0)]
