"""The one Definitions object: workspace.yaml, `dagster dev` and the tests load this module."""

from __future__ import annotations

import dagster as dg

from orchestration.automation import (
    daily_warehouse_schedule,
    dead_run_sensor,
    raw_folder_sensor,
    warehouse_job,
    with_mart_freshness,
)
from orchestration.ingestion.assets import (
    figures_match_contract,
    raw_tables,
    sources_match_contract,
)
from orchestration.ingestion.coverage import every_number_is_accounted_for, text_coverage
from orchestration.publish import published_snapshot
from orchestration.resources import build_resources
from orchestration.transformation import warehouse_dbt_models

defs = dg.Definitions(
    assets=dg.map_asset_specs(
        with_mart_freshness,
        [
            raw_tables,
            text_coverage,
            warehouse_dbt_models,
            published_snapshot,
        ],
    ),
    asset_checks=[figures_match_contract, sources_match_contract, every_number_is_accounted_for],
    jobs=[warehouse_job],
    schedules=[daily_warehouse_schedule],
    sensors=[raw_folder_sensor, dead_run_sensor],
    resources=build_resources(),
    # Every job, *Materialize all* (the implicit asset job) included, runs in one process: a
    # run's steps depend on each other, and a process per step costs seconds each to start
    # (benchmarks/RESULTS.md).
    # It is also what keeps the run lock (orchestration/locking.py) held across the run.
    executor=dg.in_process_executor,
)
