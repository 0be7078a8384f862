"""One run at a time per warehouse, however it was started: an `flock` held for the whole run.

DuckDB lets one process write a database, but a run opens it many times (the loader, each
check, the dbt subprocess, the publish step), so two runs at once would interleave their steps.
Every run of every job therefore holds an exclusive `flock` on `<warehouse>.lock` from its first
step to its last: the `run_lock` resource, which every asset and check requires, and which the
in-process executor sets up once per run. The kernel drops the lock when the run's process ends,
however it ends (SIGKILL included), so there is never a stale lock to remove.

A run launched from the UI, the schedule or the sensor that finds the lock taken (by `make run`)
waits for it; the UI's queue (dagster.yaml: one run at a time) keeps those from piling up.
`make run` asks first and, when a run is in progress, says which and exits (code 3).

The run that takes the lock also closes the books of runs that died holding it: a run still
marked as started whose process is gone is marked failed, so it does not hold the instance's
queue for ever.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.paths import PROJECT_ROOT, is_motherduck, warehouse_location
from orchestration.settings import seconds_setting

PID_TAG = "giants/pid"
LOCK_WAIT_ENV = "RUN_LOCK_WAIT_SECONDS"
DEFAULT_LOCK_WAIT = 3600.0
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


class RunInProgress(Exception):
    """Another process holds the warehouse's run lock."""


def lock_path(location: str | None = None) -> Path:
    """The lock file of a warehouse: beside the file, or data/md_<name>.lock for MotherDuck."""
    location = location or warehouse_location()
    if is_motherduck(location):
        return PROJECT_ROOT / "data" / (location.replace(":", "_") + ".lock")
    return Path(location).with_name(Path(location).name + ".lock")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder(path: Path) -> str | None:
    """Who holds the lock now (what the holder wrote), or None when it is free."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        if _try_lock(fd):
            return None
        for _ in range(50):  # the holder writes right after taking the lock
            text = os.pread(fd, 300, 0).decode("utf-8", "replace").strip()
            if text:
                return text
            time.sleep(0.01)
        return "another process"
    finally:
        os.close(fd)


@contextlib.contextmanager
def held(path: Path, who: str, wait: float = 0.0, on_wait=None) -> Iterator[Path]:
    """Hold the lock for the block; wait up to `wait` seconds for it, else RunInProgress."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        told = False
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise RunInProgress(os.pread(fd, 300, 0).decode("utf-8", "replace").strip())
            if on_wait and not told:
                on_wait(os.pread(fd, 300, 0).decode("utf-8", "replace").strip())
                told = True
            time.sleep(0.5)
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)  # a killed holder's line may still be there
        os.pwrite(fd, f"{who}, pid {os.getpid()}, started {started}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # no stale holder for the next refused run to name
    finally:
        os.close(fd)  # releases the lock; the file stays


def process_running(pid: int) -> bool:
    """Alive and not a zombie (a killed child its parent has not yet waited for)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        with contextlib.suppress(OSError):  # no /proc: ask the kernel
            os.kill(pid, 0)
            return True
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def pid_tag(run_id: str) -> str:
    """The value of a run's pid tag: the process, and the run it belongs to (a retry of a run
    starts with a copy of its parent's tags, and must not be taken for its dead parent)."""
    return f"{os.getpid()}:{run_id}"


def run_process(run: dg.DagsterRun) -> int | None:
    """The process a run runs in, as the run itself tagged it; None before it has."""
    pid, _, owner = run.tags.get(PID_TAG, "").partition(":")
    return int(pid) if pid.isdigit() and owner == run.run_id else None


def dead_runs(instance: dg.DagsterInstance, own_run_id: str | None = None) -> list[dg.DagsterRun]:
    """Runs still marked in progress whose process (named by their pid tag) is gone."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    return [
        run
        for run in runs
        if run.run_id != own_run_id
        and (pid := run_process(run)) is not None
        and not process_running(pid)
    ]


def close_dead_runs(instance: dg.DagsterInstance, own_run_id: str | None = None) -> list[str]:
    """Mark runs whose process died mid-run as failed; their ids."""
    closed = []
    for run in dead_runs(instance, own_run_id):
        instance.report_run_failed(run, message="Interrupted: its process ended mid-run.")
        closed.append(run.run_id)
    return closed


class RunLock(dg.ConfigurableResource):
    """The warehouse's run lock, held from a run's first step to its last (see the module)."""

    wait_seconds: float = DEFAULT_LOCK_WAIT

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[RunLock]:
        run = context.run
        run_id = run.run_id if run else "none"
        log = context.log

        def waiting(who: str) -> None:
            if log:
                log.info(f"waiting for the run in progress to finish ({who})")

        with held(lock_path(), f"run {run_id}", self.wait_seconds, waiting):
            instance = context.instance
            if instance is not None and run is not None:
                # A retry of this run (its process died: dagster.yaml run_retries) must redo
                # every step, or its publish step would see a partial run and refuse.
                instance.add_run_tags(
                    run_id, {PID_TAG: pid_tag(run_id), "dagster/retry_strategy": "ALL_STEPS"}
                )
                for closed in close_dead_runs(instance, run_id):
                    if log:
                        log.warning(f"run {closed} had died mid-run: marked failed")
            yield self


def run_lock_resource() -> RunLock:
    """The lock every run's steps require; how long a run waits for it: RUN_LOCK_WAIT_SECONDS."""
    return RunLock(wait_seconds=seconds_setting(LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT))
