"""Runs killed at every stage, from `make run` and from the UI: readers keep the last build.

One `make ui` (its `dagster dev`) and `make run` share a private instance, warehouse and raw/
under a temporary folder. Each kill is a real SIGKILL of the process that runs the job (`make
run` itself, or the UI's run worker), at the load, during dbt, while the DuckDB copy is written
and while the Parquet files are written (the load and the publish step pause there on request:
orchestration/publish.py, GIANTS_PAUSE_AT). After every kill, the published files open and all
carry the previous build's id; the next run of the other kind then succeeds with no step by
hand, and leaves no partial build behind. Last, one Ctrl-C stops that `make ui` and every
process it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.locking import PID_TAG, process_running
from orchestration.snapshots import BUILDS, PAUSE_ENV, PAUSE_TAG, current_build
from orchestration.ui import dagster_dev
from tests.conftest import copy_raw
from tests.helpers import (
    HANG_GUARD,
    cmdline,
    descendants,
    error_line,
    instance_at,
    make_run,
    output,
    published_build_ids,
    run_env,
    start_make_run,
)

SYNTHETIC = Path(__file__).resolve().parents[1] / "fixtures" / "synthetic-2025-01-01"
POLL = 0.02
DBT_STEP = "warehouse_dbt_models"
# No retry of a killed run here: each kill must leave the snapshot as it was, for the test to
# look at; the retry itself has its own test below.
NO_RETRY = {"dagster/max_retries": "0"}


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    """A first build of the seed by `make run` while `make ui` starts, then raw/ gains a second
    source."""
    root = tmp_path_factory.mktemp("faults")
    raw = copy_raw(root / "raw")
    # the sensor would rebuild on its own: a folder counts only after a day unchanged
    env = run_env(root, raw, RAW_SETTLE_SECONDS="86400")
    first = start_make_run(env, "first")
    with dagster_dev(env, root / "dagster-dev.log", through_make=True) as dev:
        assert first.wait(timeout=HANG_GUARD) == 0, output(env, "first")
        shutil.copytree(SYNTHETIC, raw / SYNTHETIC.name)
        yield {"env": env, "dev": dev, "publish": Path(env["WAREHOUSE_PATH"]).parent / "published"}


def dbt_materialized(instance: dg.DagsterInstance, run_id: str | None) -> bool:
    """Whether the dbt step of a run (the newest started run if no id is given) has reported a
    materialization: dbt is then running, with some models built."""
    if run_id is None:
        runs = instance.get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=1
        )
        if not runs:
            return False
        run_id = runs[0].run_id
    materialized = dg.DagsterEventType.ASSET_MATERIALIZATION
    records = instance.get_records_for_run(run_id, of_type=materialized).records
    return any(record.event_log_entry.step_key == DBT_STEP for record in records)


def wait_for(point: str, env, publish: Path, run_id: str | None, alive, what, detail) -> None:
    """Until the run reaches `point`: a pause file, or for dbt its step's first
    materialization, read by event type from one instance kept open for the whole wait (an
    instance opened per look costs as much CPU as the run it watches)."""
    if point != "dbt":
        marker = publish / BUILDS / f".{point}.paused"
        wait_until(marker.exists, alive, what, detail)
        return
    with instance_at(env["DAGSTER_HOME"]) as instance:
        wait_until(lambda: dbt_materialized(instance, run_id), alive, what, detail, every=0.1)


def wait_until(condition, alive, what: str, detail=str, every: float = POLL) -> None:
    """Poll `condition` every `every` s; `detail()` is what a failure shows (a run's output)."""
    guard = time.monotonic() + HANG_GUARD
    while not condition():
        assert alive(), f"the run ended before {what}:\n{detail()}"
        assert time.monotonic() < guard, f"never reached {what}:\n{detail()}"
        time.sleep(every)


def assert_readers_see(publish: Path, build_id: str) -> None:
    """Every file readers use opens, and all of them are the build `build_id`."""
    assert published_build_ids(publish) == {build_id}
    with duckdb.connect(str(publish / "giants.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.figures").fetchone()[0] > 0


def assert_gone(pids: list[int]) -> None:
    guard = time.monotonic() + 10
    while any(process_running(p) for p in pids) and time.monotonic() < guard:
        time.sleep(0.05)
    assert not any(process_running(p) for p in pids), "a dbt outlived its killed run"


def kill_make_run(stage, point: str) -> None:
    env, publish = stage["env"], stage["publish"]
    before = current_build(publish).build_id
    process = start_make_run({**stage["env"], "FORCE": "1", PAUSE_ENV: point}, f"kill-{point}")
    wait_for(
        point,
        env,
        publish,
        None,
        alive=lambda: process.poll() is None,
        what=point,
        detail=lambda: output(env, f"kill-{point}"),
    )
    dbt = [p for p in descendants(process.pid) if "dbt" in cmdline(p)]
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=HANG_GUARD) == -signal.SIGKILL
    assert_gone(dbt)
    assert_readers_see(publish, before)


def kill_ui_run(stage, point: str, while_paused=None) -> None:
    """A UI run killed at `point`; `while_paused(run_id)` runs first, with the run paused there."""
    env, dev, publish = stage["env"], stage["dev"], stage["publish"]
    before = current_build(publish).build_id
    run_id = dev.launch(tags={**NO_RETRY, PAUSE_TAG: point})

    def worker() -> int | None:
        tags = {t["key"]: t["value"] for t in dev.status(run_id).get("tags", [])}
        pid, _, owner = tags.get(PID_TAG, "").partition(":")
        return int(pid) if owner == run_id else None

    wait_until(lambda: worker() is not None, lambda: True, "the run's start", dev.log_tail, 0.1)
    pid = worker()

    def alive() -> bool:
        return process_running(pid)

    wait_for(point, env, publish, run_id, alive, f"{point} in the UI run", dev.log_tail)
    if while_paused is not None:
        while_paused(run_id)
    dbt = [p for p in descendants(pid) if "dbt" in cmdline(p)]
    os.kill(pid, signal.SIGKILL)
    ended = dev.wait(run_id)
    assert ended["status"] in ("FAILURE", "CANCELED"), ended
    assert_gone(dbt)
    assert_readers_see(publish, before)


def assert_recovered(publish: Path, before: str) -> None:
    build = current_build(publish)
    assert build.build_id != before
    assert published_build_ids(publish) == {build.build_id}
    with duckdb.connect(str(build.database), read_only=True) as conn:
        sources = conn.execute("select count(*) from marts.sources").fetchone()[0]
    assert sources > 1  # the synthetic corpus is in
    assert [p.name for p in (publish / BUILDS).iterdir() if p.name.startswith(".")] == []


POINTS = ("load", "dbt", "copy", "parquet")


def test_make_run_killed_at_every_stage_then_a_ui_run_recovers(stage):
    """Each kill leaves readers on the last build; then a run from the UI builds and publishes
    with no step by hand (the killed runs are marked failed, their leftovers deleted)."""
    before = current_build(stage["publish"]).build_id
    for point in POINTS:
        kill_make_run(stage, point)
    run_id = stage["dev"].launch(tags=NO_RETRY)
    assert stage["dev"].wait(run_id)["status"] == "SUCCESS", stage["dev"].log_tail()
    assert_recovered(stage["publish"], before)


def test_ui_runs_killed_at_every_stage_then_make_run_recovers(stage):
    """As above, the other way round; and while the UI run paused at the copy holds the run
    lock, `make run` refuses at once, naming the run in progress, and writes nothing."""
    before = current_build(stage["publish"]).build_id

    def make_run_refuses(run_id: str) -> None:
        line = error_line(make_run({**stage["env"], "FORCE": "1"}))
        assert line.startswith("error: another run of ") and f"(run {run_id}, pid " in line

    for point in POINTS:
        kill_ui_run(stage, point, make_run_refuses if point == "copy" else None)
    result = make_run({**stage["env"], "FORCE": "1"})
    assert result.returncode == 0, result.stderr
    assert_recovered(stage["publish"], before)


def test_a_ui_run_whose_worker_was_killed_is_retried(stage):
    """The instance retries a run whose process died (dagster.yaml run_retries), not one that
    failed on its data: the retry publishes the build with no step by hand."""
    env, dev, publish = stage["env"], stage["dev"], stage["publish"]
    before = current_build(publish).build_id
    run_id = dev.launch()
    wait_for("dbt", env, publish, run_id, lambda: True, "dbt in the UI run", dev.log_tail)
    tags = {t["key"]: t["value"] for t in dev.status(run_id)["tags"]}
    os.kill(int(tags[PID_TAG].split(":")[0]), signal.SIGKILL)
    assert dev.wait(run_id)["status"] == "FAILURE"
    retried = dg.RunsFilter(tags={"dagster/parent_run_id": run_id})
    guard = time.monotonic() + HANG_GUARD
    with instance_at(env["DAGSTER_HOME"]) as instance:
        while not (retries := instance.get_runs(retried)):
            assert time.monotonic() < guard, f"no retry of {run_id}:\n{dev.log_tail()}"
            time.sleep(1)
    assert dev.wait(retries[0].run_id)["status"] == "SUCCESS", dev.log_tail()
    assert_recovered(publish, before)


def test_two_make_runs_at_once_never_both_write(stage):
    """One runs, the other says at once who holds the lock (exit 3), or both run in turn."""
    env = {**stage["env"], "FORCE": "1"}
    first, second = start_make_run(env, "first"), start_make_run(env, "second")
    codes = (first.wait(timeout=HANG_GUARD), second.wait(timeout=HANG_GUARD))
    outputs = (output(env, "first"), output(env, "second"))
    assert "Traceback" not in "".join(outputs)
    if codes != (0, 0):
        assert sorted(codes) == [0, 3], outputs
        refused = outputs[codes.index(3)].strip()
        assert refused.startswith("error: another run of ") and "\n" not in refused
        assert "is in progress (run " in refused
    build = current_build(stage["publish"])
    assert published_build_ids(stage["publish"]) == {build.build_id}


def test_ctrl_c_on_make_ui_ends_every_process_within_10_s(stage):
    """The last test of the module: Ctrl-C on the `make ui` that served the runs above."""
    make = stage["dev"].process
    everything = descendants(make.pid)
    assert any("dagster_webserver" in cmdline(p) for p in everything), stage["dev"].log_tail()
    stopped = time.monotonic()
    os.killpg(make.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    while any(process_running(p) for p in [make.pid, *everything]):
        assert time.monotonic() - stopped < 10, [
            cmdline(p)[:80] for p in everything if process_running(p)
        ]
        time.sleep(0.1)
    print(f"make ui stopped {time.monotonic() - stopped:.1f} s after Ctrl-C")
