"""The star schema BI tools read: dimensions, derived figures, restatements, documentation."""

import json
import os
import re
import shutil
import subprocess
import sys

import duckdb
import pytest

from orchestration.paths import DBT_PROJECT_DIR, WAREHOUSE_ENV
from orchestration.run import dbt_failures
from tests.conftest import copy_raw, failed_checks, prepared_target, query, run_warehouse
from tests.helpers import broken_build, dbt, failing_rows
from tests.sources import RESTATEMENT_CSV, RESTATEMENT_YAML

pytestmark = pytest.mark.integration

MARTS = "select table_name from duckdb_tables() where schema_name = 'marts'"


def test_every_mart_table_and_column_is_described_in_the_warehouse(built_warehouse):
    tables = query(
        built_warehouse,
        "select table_name, comment from duckdb_tables() where schema_name = 'marts' order by 1",
    )
    names = {name for name, _ in tables}
    assert {"figures", "companies", "segments", "metrics", "periods", "sources"} <= names
    assert {"company_segments", "segment_rankings", "derived_figures", "figure_conflicts"} <= names
    assert [name for name, comment in tables if not comment] == []
    undocumented = query(
        built_warehouse,
        "select table_name || '.' || column_name from duckdb_columns() "
        "where schema_name = 'marts' and coalesce(comment, '') = ''",
    )
    assert undocumented == []


def test_every_company_segment_and_metric_has_labels_in_both_languages(built_warehouse):
    for table, key in [("companies", "company"), ("segments", "segment"), ("metrics", "metric")]:
        missing = query(
            built_warehouse,
            f"select {key}_id from marts.{table} "
            f"where coalesce({key}_name_en, '') = '' or coalesce({key}_name_zh, '') = ''",
        )
        assert missing == [], table


def test_every_fact_key_resolves_to_a_dimension(built_warehouse):
    orphans = query(
        built_warehouse,
        """
        select figure_id from marts.figures f
        where not exists (select 1 from marts.companies d where d.company_id = f.company_id)
           or not exists (select 1 from marts.segments d where d.segment_id = f.segment_id)
           or not exists (select 1 from marts.metrics d where d.metric_id = f.metric_id)
           or not exists (select 1 from marts.periods d where d.period_label = f.period_label)
           or not exists (select 1 from marts.sources d where d.source_id = f.source_id)
        """,
    )
    assert orphans == []
    assert query(
        built_warehouse,
        "select period_name_en, period_name_zh, n_days from marts.periods "
        "where period_label = '2024Q4'",
    ) == [("Q4 2024", "2024年第4季度", 92)]


def test_derived_figures_are_flagged_and_computed_from_stated_ones(built_warehouse):
    derivations = dict(
        query(built_warehouse, "select derivation, count(*) from marts.derived_figures group by 1")
    )
    assert set(derivations) == {
        "implied_prior_year_value",
        "implied_company_revenue",
        "segment_revenue_rank",
        "share_of_covered_revenue",
        # Tencent's evergreen games, 12 in 2023 and 14 in 2024: growth from two stated levels
        "yoy_growth_from_levels",
    }
    (tencent_2023,) = query(
        built_warehouse,
        "select value_cny_bn, formula, is_derived, input_figure_ids from marts.derived_figures "
        "where derivation = 'implied_prior_year_value' and company_id = 'tencent' "
        "and segment_id = 'games' and business_key = '' and period_label = '2023'",
    )
    assert tencent_2023 == (
        179.727,
        "value / (1 + yoy_growth / 100)",
        True,
        "hc250327-001,hc250327-002",
    )
    # every input is a stated figure, and no derived value sits in the fact table
    stated = {fid for (fid,) in query(built_warehouse, "select figure_id from marts.figures")}
    inputs = query(built_warehouse, "select input_figure_ids from marts.derived_figures")
    assert {fid for (ids,) in inputs for fid in ids.split(",")} <= stated
    assert query(
        built_warehouse,
        "select count(*) from marts.figures f join marts.derived_figures d "
        "on f.figure_id = d.derived_figure_id",
    ) == [(0,)]


@pytest.mark.parametrize(
    ("company", "expected_cny_bn"),
    # Stated shares and revenues imply each company's 2024 total (CNY bn).
    [("kuaishou", 127.018), ("bilibili", 27.333), ("tencent", 674.444)],
)
def test_share_implied_company_revenue(built_warehouse, company, expected_cny_bn):
    assert query(
        built_warehouse,
        "select value_cny_bn from marts.derived_figures where derivation = "
        f"'implied_company_revenue' and company_id = '{company}' and period_label = '2024'",
    ) == [(expected_cny_bn,)]


def test_two_routes_to_xiaomis_total_revenue_agree_within_rounding(built_warehouse):
    rows = query(
        built_warehouse,
        "select segment_id, revenue_cny_bn, share_of_company_revenue_pct, "
        "implied_company_revenue_cny_bn from marts.company_segments "
        "where company_id = 'xiaomi' and period_label = '2024' "
        "and implied_company_revenue_cny_bn is not null order by segment_id",
    )
    assert [(r[0], r[3]) for r in rows] == [("hardware", 364.444), ("overseas", 365.871)]
    # each route gives an interval from half a unit of its inputs' last digits; they overlap
    (ev, ev_share), (overseas, overseas_share) = [(r[1], r[2]) for r in rows]
    ev_low, ev_high = 100 * (ev - 0.05) / (ev_share + 0.5), 100 * (ev + 0.05) / (ev_share - 0.5)
    ov_low = 100 * (overseas - 0.05) / (overseas_share + 0.05)
    ov_high = 100 * (overseas + 0.05) / (overseas_share - 0.05)
    assert max(ev_low, ov_low) <= min(ev_high, ov_high)


def test_a_restating_source_is_kept_but_never_counted_twice(tmp_path, built_warehouse):
    raw = copy_raw(tmp_path / "raw")
    folder = raw / "synthetic-restatement-2025-08-29"
    folder.mkdir()
    (folder / "source.yaml").write_text(RESTATEMENT_YAML, encoding="utf-8")
    (folder / "figures.csv").write_text(RESTATEMENT_CSV, encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_warehouse(warehouse, raw)
    assert result.success and failed_checks(result) == []

    # the fact table keeps every statement, and marks the one the marts use
    assert query(
        warehouse,
        "select figure_id, is_latest_statement, n_statements, has_conflicting_statements "
        "from marts.figures where company_id = 'tencent' and segment_id = 'games' "
        "and business_key = '' and metric_id = 'revenue' and measure_id = 'level' "
        "and period_label = '2024' order by figure_id",
    ) == [("hc250327-001", False, 2, False), ("syn-r-001", True, 2, False)]
    # one row per company, segment, business and period, with the latest value
    assert query(
        warehouse,
        "select count(*), sum(revenue_cny_bn) from marts.company_segments "
        "where company_segment_id = 'tencent|games||2024'",
    ) == [(1, 197.7)]
    assert query(
        warehouse,
        "select revenue_cny_bn, has_conflicting_statements from marts.company_segments "
        "where company_segment_id = 'xiaomi|hardware|Smartphones|2024'",
    ) == [(192.0, True)]
    # only the changed fact is a conflict, listed with both values
    assert query(
        warehouse,
        "select figure_id, value, latest_value, is_latest_statement from marts.figure_conflicts "
        "order by figure_id",
    ) == [
        ("hc250327-051", 191800000000.0, 192000000000.0, False),
        ("syn-r-003", 192000000000.0, 192000000000.0, True),
    ]
    # the segment, company and ranking marts hold what the seed alone gives
    for table, columns in [
        ("segments", "*"),
        ("companies", "* exclude (n_figures, n_sources, latest_source_date)"),
        ("segment_rankings", "* exclude (revenue_figure_id)"),
    ]:
        sql = f"select {columns} from marts.{table} order by all"
        assert query(warehouse, sql) == query(built_warehouse, sql), table
    assert query(
        warehouse,
        "select source_id, n_figures, n_superseded, n_conflicting from marts.sources order by 1",
    ) == [("hedgehog-2025-03-27", 102, 3, 1), ("synthetic-restatement-2025-08-29", 3, 0, 1)]


def test_dbt_docs_show_the_marts_their_comments_and_the_exposures(built_warehouse, tmp_path):
    # what `make docs` runs, on a copy of a built warehouse and into a private target folder
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    subprocess.run(
        [sys.executable, "-m", "orchestration.docs"],
        cwd=DBT_PROJECT_DIR.parent,
        env={
            **os.environ,
            WAREHOUSE_ENV: str(warehouse),
            "DBT_TARGET_PATH": str(prepared_target(tmp_path / "target")),
        },
        check=True,
    )
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    figures = catalog["nodes"]["model.giants.figures"]
    assert figures["metadata"]["schema"] == "marts" and figures["metadata"]["comment"]
    assert figures["columns"]["value_cny_bn"]["comment"].startswith("Monetary values")
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert len(exposures) >= 4
    assert (
        "model.giants.segment_rankings"
        in (exposures["segment_leaders_dashboard"]["depends_on"]["nodes"])
    )
    # one self-contained page: the manifest and the catalog are inside it, nothing is fetched
    page = (tmp_path / "target" / "static_index.html").read_text(encoding="utf-8")
    assert "segment_leaders_dashboard" in page and "value_cny_bn" in page
    assert 'fetch("manifest.json' not in page


# The data tests guard the warehouse against what a loader bug or a careless seed edit could let
# through: raw/ input that passes the loader cannot reach them, so these tests break a copy of a
# built warehouse directly and run dbt on it. The marts' rules are constraints of their contracts
# (a violation fails the model's build); the views' rules are one `column_values` and one `keys`
# test per model, whose result rows name the column, rule and value at fault.
def test_a_bad_figure_fails_the_staging_tests_which_name_the_column_and_the_key(
    built_warehouse, tmp_path
):
    # a second row with the same figure_id, for a company and a scope no lookup knows
    warehouse, results = broken_build(
        built_warehouse,
        tmp_path,
        "insert into raw.figures select * replace ('nokia' as company, 'division' as scope) "
        "from raw.figures where figure_id = 'hc250327-001'",
        "stg_articles__figures",
    )
    assert failing_rows(warehouse, results["column_values_stg_articles__figures"]) == [
        ("scope", "accepted_values: segment, unit", 1, "division")
    ]
    assert sorted(failing_rows(warehouse, results["keys_stg_articles__figures"])) == [
        ("primary_key", "figure_id", "hc250327-001", 2),
        ("references lookup_companies.company_id", "company_id", "nokia", 1),
    ]


def test_a_value_out_of_range_fails_the_mart_that_states_it(built_warehouse, tmp_path):
    # Tencent's games growth in 2024 (10%) as 5000%: over company_segments' check constraint
    warehouse, results = broken_build(
        built_warehouse,
        tmp_path,
        "update raw.figures set value = 5000 where figure_id = 'hc250327-002'",
        "int_figures_joined company_segments",
    )
    assert results["int_figures_joined"]["status"] == "success"
    failed = results["company_segments"]
    assert failed["status"] == "error"
    assert "CHECK constraint failed" in failed["message"]
    assert "revenue_yoy_growth_pct BETWEEN -100 AND 1000" in failed["message"]
    # what `make run` prints for it (orchestration/run.py): the model and DuckDB's reason
    run_results = tmp_path / "target" / "run_results.json"
    (line,) = dbt_failures(run_results)
    assert line.startswith("dbt model company_segments failed to build: ")
    assert "CHECK constraint failed" in line and "BETWEEN -100 AND 1000" in line
    # a file an earlier run left says nothing about a run started after it
    assert dbt_failures(run_results, since=run_results.stat().st_mtime + 1) == []
    # the mart built before stays as it was
    assert query(
        warehouse,
        "select revenue_yoy_growth_pct from marts.company_segments "
        "where company_segment_id = 'tencent|games||2024'",
    ) == [(10.0,)]


def test_an_empty_load_fails_the_keys_of_the_fact_table(built_warehouse, tmp_path):
    warehouse, results = broken_build(
        built_warehouse, tmp_path, "delete from raw.figures", "int_figures_joined figures"
    )
    assert results["figures"]["status"] == "success"
    assert failing_rows(warehouse, results["keys_figures"]) == [("not_empty", None, None, 0)]


def test_the_marts_refuse_a_null_key_or_a_value_outside_their_contract(built_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        for change, error in [
            ("figure_id = null", "NOT NULL constraint failed: figures.figure_id"),
            ("scope = 'division'", """CHECK constraint failed on table "figures" """),
            ("value_cny_bn = -1", "CHECK((value_cny_bn >= 0))"),
        ]:
            with pytest.raises(duckdb.ConstraintException, match=re.escape(error)):
                conn.execute(f"update marts.figures set {change} where figure_id = 'hc250327-001'")


def test_an_incremental_build_tests_the_rows_it_wrote(built_warehouse, tmp_path):
    """Without --full-refresh, keys_derived_figures reads the rows of the lines the latest build
    changed and the derivations across lines (and any row sharing a key with them), and
    column_values_int_figures_joined the figures the latest build wrote (docs/operations.md,
    "Incremental builds"); a full refresh reads every row."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    duplicated = [
        ("bilibili.games", "implied_prior_year_value"),  # the line the latest build changed
        ("bilibili.video", "implied_prior_year_value"),  # a line an earlier build wrote
        ("jd.retail", "segment_revenue_rank"),  # across lines: written by every build
    ]
    ids = []
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "delete from intermediate.int_changed_business_lines "
            "where business_id <> 'bilibili.games'"
        )
        for line, derivation in duplicated:
            row = "from marts.derived_figures where business_id = ? and derivation = ?"
            ((derived_figure_id,),) = conn.execute(
                f"select derived_figure_id {row}", [line, derivation]
            ).fetchall()
            ids.append(derived_figure_id)
            conn.execute(f"insert into marts.derived_figures select * {row}", [line, derivation])
        # two figures without a fact: one the latest build wrote, one an earlier build did
        conn.execute(
            "update intermediate.int_figures_joined set fact_id = null "
            "where figure_id in ('hc250327-001', 'hc250327-002')"
        )
        conn.execute(
            "update intermediate.int_figures_joined set built_at = built_at - interval 1 day "
            "where figure_id = 'hc250327-002'"
        )

    def failing(*flags: str) -> dict[str, list[tuple]]:
        # one dbt build a test: a failing test of a model skips the tests of its descendants
        found = {}
        for test in ("keys_derived_figures", "column_values_int_figures_joined"):
            target = tmp_path / f"{test}{''.join(flags)}"
            dbt(["build", "--select", test, *flags], warehouse, target)
            (result,) = json.loads((target / "run_results.json").read_text())["results"]
            found[test] = sorted(failing_rows(warehouse, result))
        return found

    assert failing() == {
        "keys_derived_figures": sorted(
            ("primary_key", "derived_figure_id", i, 2) for i in (ids[0], ids[2])
        ),
        "column_values_int_figures_joined": [("fact_id", "not_null", 1, None)],
    }
    assert failing("--full-refresh") == {
        "keys_derived_figures": sorted(("primary_key", "derived_figure_id", i, 2) for i in ids),
        "column_values_int_figures_joined": [("fact_id", "not_null", 2, None)],
    }


def test_an_incremental_build_tests_keys_of_several_columns_and_references_of_what_it_wrote(
    built_warehouse, tmp_path
):
    """keys_company_segments, without --full-refresh, finds an old row sharing a written row's
    key of four columns (whatever its line), and a written row's reference to no company, but
    not an old row's; keys_int_figures_latest finds a fact stated twice among the figures the
    latest build wrote, and not among older ones (macros/tests/keys.sql)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    key = "company_id, segment_id, business_key, period_label"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "delete from intermediate.int_changed_business_lines "
            "where business_id <> 'bilibili.games'"
        )
        rows = "from marts.company_segments where business_id = ? order by period_label"
        (written, other, *_) = conn.execute(
            f"select company_segment_id, {key} {rows}", ["bilibili.games"]
        ).fetchall()
        # an old row (of a line no build wrote now) referring to no company
        (old,) = conn.execute(
            "select company_segment_id from marts.company_segments "
            "where business_id <> 'bilibili.games' order by 1 limit 1"
        ).fetchall()
        conn.execute(
            "update marts.company_segments set company_id = 'siemens' where company_segment_id = ?",
            old,
        )
        # a row of a line no build wrote now, sharing a written row's key and id
        conn.execute(
            "insert into marts.company_segments by name select * replace ('bilibili.other' as "
            "business_id) from marts.company_segments where company_segment_id = ?",
            [written[0]],
        )
        conn.execute(
            "update marts.company_segments set company_id = 'nokia' where company_segment_id = ?",
            [other[0]],
        )
        # two facts stated twice as the latest: one among the latest build's figures, one older
        latest = "from intermediate.int_figures_joined where statement_rank = 1 order by figure_id"
        (a, b, c, d) = [
            row[0] for row in conn.execute(f"select figure_id {latest} limit 4").fetchall()
        ]
        conn.execute(
            "update intermediate.int_figures_joined set built_at = built_at - interval 1 day "
            "where figure_id in (?, ?)",
            [c, d],
        )
        for one, other_figure in ((a, b), (c, d)):
            conn.execute(
                "update intermediate.int_figures_joined set fact_id = (select fact_id from "
                "intermediate.int_figures_joined where figure_id = ?) where figure_id = ?",
                [one, other_figure],
            )
        doubled = conn.execute(
            "select fact_id from intermediate.int_figures_joined where figure_id in (?, ?) "
            "order by built_at desc",
            [a, c],
        ).fetchall()

    found = {}
    for test in ("keys_company_segments", "keys_int_figures_latest"):
        target = tmp_path / test
        dbt(["build", "--select", test], warehouse, target)
        (result,) = json.loads((target / "run_results.json").read_text())["results"]
        found[test] = sorted(failing_rows(warehouse, result))
    value = " | ".join(written[1:])
    assert found == {
        "keys_company_segments": sorted(
            [
                ("primary_key", "company_segment_id", written[0], 2),
                ("references companies.company_id", "company_id", "nokia", 1),
                ("unique", key, value, 2),
            ]
        ),
        # the older fact stated twice (doubled[1]) is left to the build that wrote it
        "keys_int_figures_latest": [("unique", "fact_id", doubled[0][0], 2)],
    }
