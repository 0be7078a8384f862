"""How `make ui` stops (orchestration/ui.py): which processes of its group still count as running.

Real processes in groups of their own; the Ctrl-C of a whole `make ui` is in
tests/system/test_faults.py.
"""

import subprocess
import time

from orchestration.locking import process_running
from orchestration.ui import group_alive, stop_group


def ended(process: subprocess.Popen) -> None:
    """Until `process` has ended, without waiting for it: it stays a zombie."""
    guard = time.monotonic() + 10
    while process_running(process.pid):
        assert time.monotonic() < guard, "the process never ended"
        time.sleep(0.01)


def test_a_group_with_a_running_process_is_alive():
    process = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert group_alive(process.pid)
    finally:
        process.kill()
        process.wait()


def test_a_group_whose_processes_ended_is_not_alive_before_they_are_waited_for():
    """`dagster dev` is the group's leader and a child of `make ui`'s process, which waits for
    it only once the group is stopped: its ended process must not count as running."""
    process = subprocess.Popen(["true"], start_new_session=True)
    try:
        ended(process)
        assert not group_alive(process.pid)
    finally:
        process.wait()
    assert not group_alive(process.pid)


def test_stop_group_leaves_no_process_of_the_group_running():
    process = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        stop_group(process.pid)
        assert not group_alive(process.pid)
    finally:
        process.kill()
        process.wait()
