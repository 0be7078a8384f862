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

import duckdb
import pytest

from orchestration.dbt_server import SERVER_ENV, dbt_started_ahead, supported
from orchestration.locking import process_running
from orchestration.paths import DBT_PROJECT_DIR, GUARDED_DBT, dbt_target_dir
from tests.helpers import children, cmdline

pytestmark = pytest.mark.skipif(not supported(), reason="the dbt server runs on Linux only")

WAIT = 60  # seconds: a guard against a hang, not a measure


def server_pid() -> int:
    """The server this process started. Its command line reads empty for a moment after its
    start (the kernel closes the descriptors that tell Popen the program started before it sets
    up the new program's arguments), so it is read until it shows."""
    deadline = time.monotonic() + WAIT
    while True:
        servers = [p for p in children(os.getpid()) if "--serve" in cmdline(p)]
        if servers or time.monotonic() > deadline:
            (pid,) = servers
            return pid
        time.sleep(0.01)


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


# The server's warm-up alone, in a process of its own as in the server: orchestration/bin/dbt is
# a script, loaded here as a module.
WARM_UP = f"""
import importlib.machinery, importlib.util
loader = importlib.machinery.SourceFileLoader("guarded_dbt", {str(GUARDED_DBT)!r})
module = importlib.util.module_from_spec(importlib.util.spec_from_loader("guarded_dbt", loader))
loader.exec_module(module)
print(module.warm_up())
"""


def test_the_warm_up_parses_nothing_again_and_leaves_nothing(tmp_path):
    """The server's `dbt parse` ahead of its command renders the profile as the run's dbt will,
    so the project's parse serves it whole (0 files parsed again); it writes nothing but a
    folder of its own, which it deletes; and it opens no database: a writer holds the warehouse
    file throughout, as the run's load may."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    scratch = tmp_path / "tmp"  # the warm-up's temporary folder goes here
    scratch.mkdir()
    target = dbt_target_dir()

    def files() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in target.iterdir() if p.is_file()}

    before = files()
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse), "TMPDIR": str(scratch)}
    with duckdb.connect(str(warehouse)) as writer:
        writer.execute("create table held as select 1 as x")
        done = subprocess.run(
            [sys.executable, "-c", WARM_UP], env=env, capture_output=True, text=True, timeout=WAIT
        )
    assert done.stdout.strip().splitlines()[-1:] == ["0"], done.stdout + done.stderr
    assert list(scratch.iterdir()) == []
    assert files() == before, "the warm-up wrote into the project's dbt target folder"
