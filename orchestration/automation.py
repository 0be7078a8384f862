"""The whole-warehouse job and its daily schedule."""

from __future__ import annotations

import dagster as dg

warehouse_job = dg.define_asset_job(
    name="warehouse",
    selection=dg.AssetSelection.all(),
    description="Load raw/, validate it, and build every dbt model and test.",
    # One process for the whole run: a project this size spends most of a multiprocess run
    # starting processes (README, "Executor").
    executor_def=dg.in_process_executor,
)

daily_warehouse_schedule = dg.ScheduleDefinition(
    name="warehouse_daily",
    job=warehouse_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai",
    description="Every day at 06:00 Beijing time, after the overnight article curation.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
