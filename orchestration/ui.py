"""`make ui`: `dagster dev` (webserver, daemon, code servers) that stops on one Ctrl-C.

`dagster dev` left to itself stops only its daemon on SIGINT and ignores SIGTERM, so Ctrl-C in
the terminal left the webserver and the code servers running. Here it runs in a process group
of its own; Ctrl-C (or SIGTERM) asks that group to stop, and whatever is still alive after a
grace period is killed. A run in progress then dies with it (its dbt too: orchestration/bin/dbt)
and the next run, from the UI or `make run`, finds readers on the previous build.

    python -m orchestration.ui [dagster dev options]

Below that, a small client of the UI's GraphQL API: what the UI's buttons send (*Materialize
all*, *Launch run*), for the tests and the benchmarks that drive a real `dagster dev`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestration.paths import PROJECT_ROOT

GRACE_SECONDS = 4.0


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. A zombie (a process that ended and that its
    parent has not waited for yet, as `dagster dev` is until `main` waits for it) does not
    count: the kernel still signals its group, so asking the kernel alone made every stop wait
    out the whole grace period."""
    proc = Path("/proc")
    if not proc.is_dir():  # no /proc: ask the kernel
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # after the command's name: state, parent, process group, ...
            state, _, group = stat.read_text().rsplit(")", 1)[-1].split()[:3]
        except (OSError, ValueError):
            continue  # ended meanwhile
        if int(group) == pgid and state not in ("Z", "X"):
            return True
    return False


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


# --- a client of the UI's GraphQL API -----------------------------------------------------

WORKSPACE = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename
          ... on RepositoryLocation { repositories { name } }
          ... on PythonError { message stack } } } }
    ... on PythonError { message } } }
"""
JOB_ASSETS = """
query JobAssets($selector: PipelineSelector!) {
  assetNodes(pipeline: $selector) {
    assetKey { path }
    assetChecksOrError { __typename ... on AssetChecks { checks { name } } }
  }
}
"""
LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""
RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status startTime endTime tags { key value }
      stepStats { stepKey status startTime endTime } }
    ... on PythonError { message }
  }
}
"""
# What polling asks for: no step statistics, which the webserver computes from the run's events
# at every ask (about three times the CPU, taken from the run it watches: benchmarks/RESULTS.md).
STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status tags { key value } }
    ... on PythonError { message }
  }
}
"""
ENDED = {"SUCCESS", "FAILURE", "CANCELED"}
READY_LIMIT_S = 300  # guards against a hung start; not a measure


def graphql(url: str, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
    """The `data` of a GraphQL answer; GraphQL errors raise with their messages."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loaded_location(url: str) -> tuple[str, str] | None:
    """(code location, repository) once the workspace has loaded, None while it is loading or
    the server does not answer yet; a location that failed to load raises."""
    try:
        workspace = graphql(url, WORKSPACE, timeout=10)["workspaceOrError"]
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    entries = workspace.get("locationEntries") or []
    if not entries or any(entry["loadStatus"] != "LOADED" for entry in entries):
        return None
    (entry,) = entries
    location = entry["locationOrLoadError"]
    if location["__typename"] != "RepositoryLocation":
        raise RuntimeError(f"code location {entry['name']} failed to load: {location}")
    return entry["name"], location["repositories"][0]["name"]


@dataclass
class Dev:
    """A running `dagster dev` (started as `make ui` starts it) and how to reach it."""

    url: str
    process: subprocess.Popen
    log: Path
    location: str = ""
    repository: str = ""
    ready_s: float = 0.0

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        return graphql(self.url, query, variables, timeout)

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def selector(self, job: str = "warehouse") -> dict:
        return {
            "repositoryLocationName": self.location,
            "repositoryName": self.repository,
            "pipelineName": job,
        }

    def launch(self, job: str = "warehouse", everything: bool = False, tags=None) -> str:
        """*Launch run* on `job`; with `everything`, *Materialize all* on the asset graph (the
        implicit asset job, every asset and check selected, as that button sends it)."""
        selector = self.selector("__ASSET_JOB" if everything else job)
        if everything:
            nodes = self.graphql(JOB_ASSETS, {"selector": selector})["assetNodes"]
            selector["assetSelection"] = [{"path": n["assetKey"]["path"]} for n in nodes]
            selector["assetCheckSelection"] = [
                {"assetKey": {"path": n["assetKey"]["path"]}, "name": check["name"]}
                for n in nodes
                if n["assetChecksOrError"]["__typename"] == "AssetChecks"
                for check in n["assetChecksOrError"]["checks"]
            ]
        params = {"selector": selector, "mode": "default", "runConfigData": {}}
        if tags:
            params["executionMetadata"] = {
                "tags": [{"key": k, "value": v} for k, v in tags.items()]
            }
        launched = self.graphql(LAUNCH, {"executionParams": params})["launchRun"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launch refused: {launched}")
        return launched["run"]["runId"]

    def run(self, run_id: str) -> dict:
        return self.graphql(RUN, {"runId": run_id})["runOrError"]

    def status(self, run_id: str) -> dict:
        """The run's status and tags alone: what a poll needs."""
        return self.graphql(STATUS, {"runId": run_id})["runOrError"]

    def wait(self, run_id: str, limit: float = 900, until=ENDED) -> dict:
        """Poll the run until its status is in `until`, then return the whole run (its step
        statistics too); the limit only guards against a hang."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.status(run_id).get("status") in until:
                return self.run(run_id)
            time.sleep(0.25)
        raise TimeoutError(f"run {run_id} did not reach {until} in {limit} s:\n{self.log_tail()}")


@contextlib.contextmanager
def dagster_dev(env: dict[str, str], log: Path, through_make: bool = False) -> Iterator[Dev]:
    """`make ui`'s `dagster dev` on a free loopback port with `env` (DAGSTER_HOME and the
    rest), in a process group of its own that is stopped on the way out, pass or fail; started
    by `make ui` itself if `through_make`, else by the command its recipe runs."""
    port = free_port()
    if through_make:
        command = ["make", "--no-print-directory", "ui", f"UI_PORT={port}"]
    else:
        command = [sys.executable, "-m", "orchestration.ui", "-w", "workspace.yaml"]
        command += ["-h", "127.0.0.1", "-p", str(port)]
    started = time.monotonic()
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dev = Dev(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        deadline = time.monotonic() + READY_LIMIT_S
        while not (loaded := loaded_location(dev.url)):
            if process.poll() is not None:
                raise RuntimeError(f"dagster dev exited ({process.returncode}):\n{dev.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no code location after {READY_LIMIT_S} s:\n{dev.log_tail()}")
            time.sleep(0.25)
        dev.location, dev.repository = loaded
        dev.ready_s = time.monotonic() - started
        yield dev
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C: orchestration.ui stops the rest
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
