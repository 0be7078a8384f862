"""The Definitions object loads, with one connected lineage from raw/ to the marts."""

import json
import subprocess
import sys

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.ingestion.assets import figures_match_contract, sources_match_contract
from orchestration.locking import DEFAULT_LOCK_WAIT, LOCK_WAIT_ENV, run_lock_resource
from orchestration.paths import PROJECT_ROOT


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


def test_the_lock_wait_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(LOCK_WAIT_ENV, raising=False)
    assert run_lock_resource().wait_seconds == DEFAULT_LOCK_WAIT == 3600
    monkeypatch.setenv(LOCK_WAIT_ENV, "12.5")
    assert run_lock_resource().wait_seconds == 12.5


@pytest.mark.parametrize("value", ["-5", "an hour", "nan"])
def test_a_lock_wait_that_is_not_seconds_is_refused_naming_the_variable(value, monkeypatch):
    monkeypatch.setenv(LOCK_WAIT_ENV, value)
    with pytest.raises(ValueError, match=f"^{LOCK_WAIT_ENV}='{value}': give a number of seconds"):
        run_lock_resource()


def test_the_published_snapshot_is_one_step_that_cannot_be_split():
    graph = defs.resolve_asset_graph()
    marts = graph.get(dg.AssetKey(["published", "marts"]))
    chart = graph.get(dg.AssetKey(["published", "segment_revenue_chart"]))
    assert marts.assets_def is chart.assets_def and not marts.assets_def.can_subset


GRAPH = """
import json, sys
{before}
from orchestration.definitions import defs
graph = defs.resolve_asset_graph()
print(json.dumps({{
    "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
    "checks": sorted(str(k) for k in graph.asset_check_keys),
    "dbt_core_loaded": "dbt.contracts.graph.nodes" in sys.modules,
}}))
"""


def graph_in_new_process(before: str = "") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", GRAPH.format(before=before)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.splitlines()[-1])


@pytest.mark.integration
def test_the_graph_without_dbt_core_in_process_is_the_graph_dbt_core_selects():
    """orchestration/__init__.py keeps dbt-core out of Dagster's process; dagster-dbt then reads
    the selection from the manifest. Imported first, dbt-core is used: both graphs must agree."""
    without = graph_in_new_process()
    with_dbt_core = graph_in_new_process("import dbt.version")
    assert not without["dbt_core_loaded"] and with_dbt_core["dbt_core_loaded"]
    assert without["assets"] == with_dbt_core["assets"]
    assert without["checks"] == with_dbt_core["checks"]
    assert len(without["checks"]) > 10
