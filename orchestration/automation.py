"""When the warehouse is rebuilt (job, schedule, raw/ sensor), and how stale its marts may get."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import dagster as dg

from orchestration.ingestion.raw_files import discover, folder_hash
from orchestration.paths import display, raw_dir

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

# Run tags of a sensor run: which source folders it was requested for.
ADDED_TAG, CHANGED_TAG, REMOVED_TAG = "raw/added", "raw/changed", "raw/removed"


def raw_folder_hashes() -> dict[str, str]:
    """{source_id: hash of its files and article text} for every source folder under raw/ now."""
    return {folder.name: folder_hash(folder) for folder in discover(raw_dir())}


def raw_changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """The source folders added, changed and removed between two sets of hashes."""
    return {
        ADDED_TAG: sorted(after.keys() - before.keys()),
        CHANGED_TAG: sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        REMOVED_TAG: sorted(before.keys() - after.keys()),
    }


@dg.sensor(
    job=warehouse_job,
    minimum_interval_seconds=30,
    # On by default: a curator who drops a folder into raw/ while the UI runs expects the
    # warehouse to follow without pressing anything. It only ever requests the one job, and
    # the instance runs one run at a time (dagster.yaml), so it cannot pile up writers.
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def raw_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Rebuild the warehouse when a source folder under raw/ is added, changed or removed.

    A removed folder also requests a run: the raw tables mirror raw/, so the warehouse must
    drop that source's rows. The cursor holds {source_id: hash} of the contract files
    (source.yaml, figures.csv, exclusions.csv). The first tick only records them: raw/ alone
    cannot tell whether the warehouse already reflects it, and a surprise build when the UI
    opens would lock the DuckDB file against readers (`make run`, the schedule or
    *Materialize all* build it). The run key is the hash of the change (hashes before and
    after), so a retried tick never launches the same rebuild twice; should the same change
    recur exactly (edit, revert, edit again), Dagster skips it as already run, and the daily
    schedule rebuilds from raw/ anyway.
    """
    current = raw_folder_hashes()
    if context.cursor is None:
        return dg.SensorResult(
            skip_reason=f"Watching {len(current)} source folder(s) in {display(raw_dir())}; "
            "the next change requests a run.",
            cursor=json.dumps(current, sort_keys=True),
        )
    previous = json.loads(context.cursor)
    changes = raw_changes(previous, current)
    if not any(changes.values()):
        return dg.SensorResult(skip_reason="No source folder in raw/ changed.")
    transition = json.dumps({"before": previous, "after": current}, sort_keys=True)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"raw-{hashlib.sha256(transition.encode()).hexdigest()[:16]}",
                tags={tag: ",".join(ids) for tag, ids in changes.items() if ids},
            )
        ],
        cursor=json.dumps(current, sort_keys=True),
    )


# The marts are rebuilt every day (warehouse_daily); one missed day is a warning, two a failure.
# A FreshnessPolicy, not a freshness check: Dagster 1.12+ recommends policies over the
# superseded build_last_update_freshness_checks. The freshness daemon (`dagster dev` starts it)
# evaluates them; they are not steps of any job, so the `warehouse` job is unchanged.
MART_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=2), warn_window=timedelta(hours=26)
)


def with_mart_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The marts' freshness policy on every asset keyed marts/*; other specs unchanged."""
    if spec.key.path[0] != "marts":
        return spec
    return dg.apply_freshness_policy(spec, MART_FRESHNESS)
