"""The real Dagster UI (`dagster dev`, as `make ui` starts it) on a private instance and warehouse.

`dagster dev` rather than `dagster-webserver` alone: dagster.yaml limits the instance to one run
at a time, so runs go through the queue, and only the daemon that `dagster dev` starts takes them
off it (a bare webserver would leave a launched run QUEUED forever). The daemon also ticks the
raw/ sensor (its first tick only records hashes) and evaluates the marts' freshness policies.
Everything runs in one process group that the fixture kills on the way out, pass or fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.ui_path import free_port, graphql, loaded_location, stop_process_group
from orchestration.paths import PROJECT_ROOT, RAW_DIR_ENV, WAREHOUSE_ENV
from tests.conftest import copy_raw

BIN = Path(sys.executable).parent
READY_LIMIT_S = 300  # a guard against a hung start, not a measure of speed
RUN_LIMIT_S = 900
STOP_GRACE_S = 20


@dataclass
class Webserver:
    """A running `dagster dev` and the private folders it reads and writes."""

    url: str
    home: Path
    warehouse: Path
    raw: Path
    log: Path
    location: str = ""
    repository: str = ""
    ready_s: float = 0.0

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        """The `data` of a GraphQL answer; GraphQL errors raise with their messages."""
        return graphql(self.url, query, variables, timeout)

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def selector(self, job: str) -> dict:
        return {
            "repositoryLocationName": self.location,
            "repositoryName": self.repository,
            "pipelineName": job,
        }


def _environment(server: Webserver) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DAGSTER_HOME": str(server.home),
            WAREHOUSE_ENV: str(server.warehouse),
            RAW_DIR_ENV: str(server.raw),
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            # Evaluate freshness every 5 s instead of 30 s, so a test sees it soon after a run.
            "FRESHNESS_DAEMON_INTERVAL_SECONDS": "5",
        }
    )
    return env


def _wait_until_loaded(server: Webserver, process: subprocess.Popen) -> None:
    """Poll GraphQL until the code location has loaded; raise at once if it failed to."""
    deadline = time.monotonic() + READY_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"dagster dev exited with {process.returncode}:\n{server.log_tail()}"
            )
        if loaded := loaded_location(server.url):
            server.location, server.repository = loaded
            return
        time.sleep(0.5)
    raise TimeoutError(f"no loaded code location after {READY_LIMIT_S} s:\n{server.log_tail()}")


@contextlib.contextmanager
def dagster_dev(folder: Path) -> Iterator[Webserver]:
    """`dagster dev -w workspace.yaml` on a free loopback port, with everything under `folder`."""
    home = folder / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    server = Webserver(
        url=f"http://127.0.0.1:{port}",
        home=home,
        warehouse=folder / "warehouse.duckdb",
        raw=copy_raw(folder / "raw"),
        log=folder / "dagster-dev.log",
    )
    command = [str(BIN / "dagster"), "dev", "-w", "workspace.yaml"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    started = time.monotonic()
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=_environment(server),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches every child
        )
        try:
            _wait_until_loaded(server, process)
            server.ready_s = time.monotonic() - started
            print(f"\nwebserver ready (code location loaded) in {server.ready_s:.1f} s")
            yield server
        finally:
            stop_process_group(process, STOP_GRACE_S)
