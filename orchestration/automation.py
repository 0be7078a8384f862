"""When the warehouse is rebuilt (job, schedule, raw/ sensor), and how stale its marts may get."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg

from orchestration.confine import printable
from orchestration.ingestion.folder_files import discover
from orchestration.ingestion.folder_hashes import FolderHashes
from orchestration.locking import IN_PROGRESS, close_dead_runs
from orchestration.paths import publish_dir, raw_dir
from orchestration.settings import seconds_setting
from orchestration.snapshots import current_build

warehouse_job = dg.define_asset_job(
    name="warehouse",
    selection=dg.AssetSelection.all(),
    description="Load raw/, validate it, build every dbt model and test, and publish the "
    "snapshot readers use.",
    # Its executor is the Definitions' (orchestration/definitions.py): one process per run.
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
SETTLE_ENV = "RAW_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 60.0
# How often the daemon evaluates the raw/ sensor. Read when the definitions load: a change
# takes effect when the code location is reloaded (or `make ui` restarted).
INTERVAL_ENV = "RAW_SENSOR_INTERVAL_SECONDS"
DEFAULT_INTERVAL_SECONDS = 30
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, *IN_PROGRESS]


def settle_seconds() -> float:
    """How long a folder stays unchanged before the raw/ sensor counts it: RAW_SETTLE_SECONDS."""
    return seconds_setting(SETTLE_ENV, DEFAULT_SETTLE_SECONDS)


def sensor_interval_seconds() -> int:
    """The raw/ sensor's minimum interval: RAW_SENSOR_INTERVAL_SECONDS."""
    return int(seconds_setting(INTERVAL_ENV, DEFAULT_INTERVAL_SECONDS, whole=True))


def last_change(folder: Path) -> float:
    """When anything in a source folder (or the folder itself) last changed: its content or
    its inode (ctime), so a folder copied in with its old times, or moved in, counts as new."""
    stats = [p.lstat() for p in [folder, *folder.rglob("*")]]
    return max(max(s.st_mtime, s.st_ctime) for s in stats)


def settled_view(
    raw: Path, known: dict[str, str], now: float | None = None
) -> tuple[dict[str, str], list[str]]:
    """{source_id: hash} of raw/ as the sensor counts it, and the folders still being edited.

    A folder counts once nothing in it has changed for the settle interval: a curator copying
    files in, or an editor saving figures.csv line by line, does not start a run per save.
    A folder still being edited keeps the hash it is `known` by (the last settled one, else
    the published build's), and a new one is left out until it settles.
    """
    now = time.time() if now is None else now
    view, unsettled = {}, []
    kept = FolderHashes.of_instance()
    for folder in discover(raw):
        source_id = printable(folder.name)  # as the loader records it
        if now - last_change(folder) < settle_seconds():
            unsettled.append(source_id)
            if source_id in known:
                view[source_id] = known[source_id]
            continue
        view[source_id] = kept.hash(folder)
    kept.save()
    return view, unsettled


def raw_changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """The source folders added, changed and removed between two sets of hashes."""
    return {
        ADDED_TAG: sorted(after.keys() - before.keys()),
        CHANGED_TAG: sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        REMOVED_TAG: sorted(before.keys() - after.keys()),
    }


@dg.sensor(
    job=warehouse_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    # On by default: a curator who drops a folder into raw/ while the UI runs expects the
    # warehouse to follow without pressing anything. It only ever requests the one job, and
    # never while any run is waiting or in progress.
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def raw_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Rebuild the warehouse when raw/ differs from what the published build was made from.

    The published build records each source folder's hash (`build.json`), whoever ran it; the
    sensor compares raw/ with it, folder by folder, so a folder added, changed or removed (its
    rows must leave) requests a run, and a build made by `make run` or the UI counts as well.
    The daemon evaluates it every RAW_SENSOR_INTERVAL_SECONDS (default 30). Folders under `_`
    or `.` names (raw/_draft/) are never read. A folder counts only once it has settled
    (RAW_SETTLE_SECONDS, default 60, without a change). No run is requested while a run (of
    this job, *Materialize all*, or a subset) is queued or in progress. The run key is the
    state of raw/ it builds and the build it differs from, so the sensor never runs the same
    change twice: a run that failed on its data waits for a fix of raw/, and a run whose
    process was killed is retried by the instance's run retries (dagster.yaml). A state built
    before and since replaced (a folder edited, then put back) is a change of another build, so
    it is built again.
    """
    built = current_build(publish_dir())
    published = built.sources if built else {}
    previous = json.loads(context.cursor) if context.cursor else {}
    view, unsettled = settled_view(raw_dir(), {**published, **previous})
    cursor = json.dumps(view, sort_keys=True)
    changes = raw_changes(published, view)
    editing = f" ({len(unsettled)} folder(s) still being edited: {', '.join(unsettled)})"
    if not any(changes.values()):
        reason = f"raw/ is what build {built.build_id} was made from" if built else "raw/ is empty"
        return dg.SensorResult(skip_reason=reason + (editing if unsettled else ""), cursor=cursor)
    # Any run: besides the `warehouse` job's, *Materialize all* runs the implicit asset job and
    # a launchpad subset a job of its own, and each of them writes the warehouse.
    waiting = context.instance.get_runs(filters=dg.RunsFilter(statuses=WAITING), limit=1)
    if waiting:
        return dg.SensorResult(
            skip_reason=f"run {waiting[0].run_id} is queued or in progress; raw/ is compared "
            "again after it",
            cursor=cursor,
        )
    # Dagster runs a run key once: the published build's id makes a return to an earlier
    # state of raw/ a new key, where the state alone would be skipped as already run.
    change = f"{built.build_id if built else ''}\n{cursor}"
    state = hashlib.sha256(change.encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"raw-{state}",
                tags={tag: ",".join(ids) for tag, ids in changes.items() if ids},
            )
        ],
        cursor=cursor,
    )


# Every loop of the daemon (5 s): a run that died holds the one-run queue, and the retry of a
# killed run worker, until it is marked. A look is one query of the runs in progress.
DEAD_RUN_INTERVAL_SECONDS = 5


@dg.sensor(
    minimum_interval_seconds=DEAD_RUN_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process died mid-run as failed, so that they do not hold "
    "the one-run queue for ever; the instance then retries them (dagster.yaml).",
)
def dead_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Close the books of runs that died: `make run` killed, a run worker killed.

    Every run tags itself with its process id when it takes the run lock (locking.py); a run
    still marked in progress whose process is gone can never finish by itself, and the queue
    (one run at a time) would wait for it for ever.
    """
    closed = close_dead_runs(context.instance)
    if closed:
        return dg.SkipReason(f"marked {len(closed)} dead run(s) failed: {', '.join(closed)}")
    return dg.SkipReason("no run died mid-run")


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
