"""`make ui`: `dagster dev` (webserver, daemon, code servers) that stops on one Ctrl-C.

`dagster dev` left to itself stops only its daemon on SIGINT and ignores SIGTERM, so Ctrl-C in
the terminal left the webserver and the code servers running. Here it runs in a process group
of its own; Ctrl-C (or SIGTERM) asks that group to stop, and whatever is still alive after a
grace period is killed. A run in progress then dies with it (its dbt too: orchestration/bin/dbt)
and the next run, from the UI or `make run`, finds readers on the previous build.

    python -m orchestration.ui [dagster dev options]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_SECONDS = 4.0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM, then SIGINT, to every process of the group; SIGKILL what is left after grace."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return


def main(argv: list[str]) -> int:
    command = [str(Path(sys.executable).parent / "dagster"), "dev", *argv]
    process = subprocess.Popen(command, start_new_session=True)
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        if not stopping:
            stopping = True
            print("\nStopping the Dagster UI ...", file=sys.stderr, flush=True)
        stop_group(process.pid)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        code = process.wait()
    finally:
        if group_alive(process.pid):
            stop_group(process.pid)
    return 0 if stopping else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
