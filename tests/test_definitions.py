"""The Definitions object loads, with one connected lineage from raw/ to the marts."""

import dagster as dg

from orchestration.definitions import defs
from orchestration.ingestion.assets import figures_match_contract, sources_match_contract


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_raw_staging_and_marts_form_one_graph():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/figures", "raw/sources", "staging/stg_articles__figures", "marts/figures"} <= keys
    assert {"marts/companies", "marts/segments", "marts/company_segments"} <= keys
    upstream = graph.get(dg.AssetKey(["staging", "stg_articles__figures"])).parent_keys
    assert dg.AssetKey(["raw", "figures"]) in upstream


def test_pandera_checks_block_and_dbt_tests_are_checks():
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"figures_match_contract", "sources_match_contract"} <= checks
    assert any(name == "keys_figures" for name in checks)
    for check in (figures_match_contract, sources_match_contract):
        assert all(spec.blocking for spec in check.check_specs)


def test_the_job_and_its_daily_schedule():
    job = defs.resolve_job_def("warehouse")
    assert job.executor_def.name == "in_process"
    schedule = defs.resolve_schedule_def("warehouse_daily")
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.cron_schedule == "0 6 * * *"


def test_every_job_materialize_all_included_runs_in_one_process():
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    for job in defs.resolve_all_job_defs():
        assert job.executor_def.name == "in_process", job.name


def test_every_step_holds_the_run_lock():
    """Whatever a run selects, it takes the warehouse's run lock (orchestration/locking.py)."""
    job = defs.resolve_implicit_global_asset_job_def()
    for node in job.graph.node_defs:
        assert "run_lock" in node.required_resource_keys, node.name


def test_the_published_snapshot_is_one_step_that_cannot_be_split():
    graph = defs.resolve_asset_graph()
    marts = graph.get(dg.AssetKey(["published", "marts"]))
    chart = graph.get(dg.AssetKey(["published", "segment_revenue_chart"]))
    assert marts.assets_def is chart.assets_def and not marts.assets_def.can_subset
