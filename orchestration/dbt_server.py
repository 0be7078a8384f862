"""A dbt process started ahead of the dbt step, so that its start overlaps the run's first steps.

dbt spends its first seconds importing dbt-core and its adapter, then building its own code
on its first command, before any node runs (benchmarks/RESULTS.md); the server spends them
ahead. A run starts `orchestration/bin/dbt --serve` as soon as it knows it
will build (`make run` before it imports the definitions; a run from the UI when its resources
are set up), and names the server's socket in $GIANTS_DBT_SERVER. The dbt step's `dbt build`
(dagster-dbt starts orchestration/bin/dbt) then hands its command over to it instead of starting
dbt anew. A server serves one command, only from a child of the run that started it, and dies
with that run; the run stops it if the dbt step never came (a failed load, a subset run).
Linux only (it checks its peer through /proc); elsewhere the wrapper starts dbt as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from orchestration.paths import GUARDED_DBT

SERVER_ENV = "GIANTS_DBT_SERVER"  # as orchestration/bin/dbt reads it
STOP_SECONDS = 5


def supported() -> bool:
    return sys.platform.startswith("linux")


@contextlib.contextmanager
def dbt_started_ahead() -> Iterator[None]:
    """A dbt server for this process's dbt commands while the block runs, unless one is up."""
    if not supported() or os.environ.get(SERVER_ENV):
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="giants-dbt-"))  # mode 0700: this user only
    socket_path = folder / "dbt.sock"
    # Bound and listening before the server starts: a dbt started at once waits in the backlog.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(os.fspath(socket_path))
        listener.listen(4)
        server = subprocess.Popen(
            [sys.executable, os.fspath(GUARDED_DBT), "--serve", str(listener.fileno())],
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    os.environ[SERVER_ENV] = os.fspath(socket_path)
    try:
        yield
    finally:
        if os.environ.get(SERVER_ENV) == os.fspath(socket_path):
            del os.environ[SERVER_ENV]
        if server.poll() is None:  # not handed a command, or still running one we gave up on
            server.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=STOP_SECONDS)
        shutil.rmtree(folder, ignore_errors=True)
