"""dbt started ahead (orchestration/dbt_server.py): it serves its run's dbt, once, and dies with it.

Each test starts a real server (a process importing dbt-core) from this process, as a run does,
and real `orchestration/bin/dbt` commands, as dagster-dbt does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from orchestration.dbt_server import SERVER_ENV, dbt_started_ahead, supported
from orchestration.locking import process_running
from orchestration.paths import DBT_PROJECT_DIR, GUARDED_DBT
from tests.helpers import children, cmdline

pytestmark = pytest.mark.skipif(not supported(), reason="the dbt server runs on Linux only")

WAIT = 60  # seconds: a guard against a hang, not a measure


def server_pid() -> int:
    (pid,) = [p for p in children(os.getpid()) if "--serve" in cmdline(p)]
    return pid


def dbt(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(GUARDED_DBT), *args],
        cwd=DBT_PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + WAIT
    while process_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not process_running(pid)


def test_the_server_runs_one_command_of_its_run_and_ends():
    with dbt_started_ahead():
        server = server_pid()
        first = dbt("--version")
        output, _ = first.communicate(timeout=WAIT)
        assert first.returncode == 0, output
        assert "Core:" in output and "duckdb" in output  # dbt's own answer, through our pipe
        assert wait_gone(server), "the server outlived the command it ran"
        # the server is gone: the next command starts dbt as before
        second = dbt("--version")
        assert second.wait(timeout=WAIT) == 0
    assert SERVER_ENV not in os.environ


def test_a_failing_command_returns_dbts_exit_code():
    with dbt_started_ahead():
        server = server_pid()
        failing = dbt("run", "--select", "no_such_model_anywhere", "--project-dir", "/nonexistent")
        output, _ = failing.communicate(timeout=WAIT)
        assert wait_gone(server)
    assert failing.returncode not in (0, None), output


def test_only_a_child_of_the_run_is_served():
    """A dbt started by another process (here a shell of this one) runs dbt itself."""
    with dbt_started_ahead():
        server = server_pid()
        other = subprocess.run(
            ["/bin/sh", "-c", f"'{sys.executable}' '{GUARDED_DBT}' --version; echo done"],
            cwd=DBT_PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert other.returncode == 0 and "Core:" in other.stdout, other.stderr
        assert process_running(server), "the server served a process that is not the run's child"


# A query that runs for hours, to be killed
ENDLESS = "select count(*) as n from range(1000000000000)"


def test_a_killed_wrapper_takes_the_server_with_it(tmp_path):
    with dbt_started_ahead():
        server = server_pid()
        socket_path = os.environ[SERVER_ENV]
        target = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
        env = {**os.environ, "WAREHOUSE_PATH": str(tmp_path / "w.duckdb")}
        command = dbt("show", "--inline", ENDLESS, *target, env=env)
        deadline = time.monotonic() + WAIT
        while os.path.exists(socket_path):  # the server unlinks its socket once it takes one
            assert time.monotonic() < deadline and command.poll() is None, "never handed over"
            time.sleep(0.02)
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=WAIT)
        assert wait_gone(server), "dbt went on after the wrapper that started it was killed"


def test_the_run_stops_a_server_it_never_used():
    with dbt_started_ahead():
        server = server_pid()
    assert wait_gone(server)
