"""The one Definitions object: workspace.yaml, `dagster dev` and the tests load this module."""

from __future__ import annotations

import dagster as dg

from orchestration.automation import (
    daily_warehouse_schedule,
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
from orchestration.publish import published_marts, segment_revenue_chart
from orchestration.resources import build_resources
from orchestration.transformation import warehouse_dbt_models

defs = dg.Definitions(
    assets=dg.map_asset_specs(
        with_mart_freshness,
        [
            raw_tables,
            text_coverage,
            warehouse_dbt_models,
            published_marts,
            segment_revenue_chart,
        ],
    ),
    asset_checks=[figures_match_contract, sources_match_contract, every_number_is_accounted_for],
    jobs=[warehouse_job],
    schedules=[daily_warehouse_schedule],
    sensors=[raw_folder_sensor],
    resources=build_resources(),
)
