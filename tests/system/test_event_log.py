"""The instance's event log (orchestration/event_log.py): pooled, and still watched live.

With one pooled connection per process, a commit stays in SQLite's write-ahead log until a
checkpoint: the UI's live run view, which watches the files, must see it there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import dagster as dg

from orchestration.event_log import PooledSqliteEventLogStorage
from orchestration.paths import PROJECT_ROOT
from tests.helpers import INSTANCE_SETTINGS, instance_at

WAIT = 30  # seconds: a guard against a hang, not a measure

# Another process (a run worker) writes one event and stays open, as a run does mid-run.
WRITER = textwrap.dedent(
    """
    import sys
    import dagster as dg
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(sys.argv[1])
        instance.report_engine_event("written by another process", run)
        print("written", flush=True)
        sys.stdin.read()
    """
)


@dg.op
def nothing() -> None:
    return None


@dg.job
def one_step():
    nothing()


def test_a_watcher_sees_another_processs_events_as_they_are_committed(tmp_path):
    shutil.copy(INSTANCE_SETTINGS, tmp_path / "dagster.yaml")
    seen: list[str] = []
    with instance_at(tmp_path) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        run = instance.create_run_for_job(one_step)
        instance.event_log_storage.watch(
            run.run_id, None, lambda entry, _cursor: seen.append(entry.message or "")
        )
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, run.run_id],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout.readline().strip() == "written"
            deadline = time.monotonic() + WAIT
            while not any("written by another process" in m for m in seen):
                assert time.monotonic() < deadline, f"the watcher never saw the event: {seen}"
                time.sleep(0.1)
        finally:
            writer.communicate(timeout=WAIT)
