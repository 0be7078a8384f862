"""The UI path, timed: a run of the `warehouse` job launched through the webserver's GraphQL API.

    .venv/bin/python -m benchmarks.ui_path              # the seed article (raw/)
    .venv/bin/python -m benchmarks.ui_path --results benchmarks/RESULTS.md   # and record it
    .venv/bin/python -m benchmarks.ui_path --raw .bench/corpus/10000-20241231-v2

What *Launch run* in the UI does, without a browser, on a private instance and warehouse in a
temporary folder: start `dagster-webserver` on a free port, wait for the code location to load,
send `launchRun`, then poll the run until it ends. dagster.yaml caps the instance at one run at a
time, so a launched run goes to the queue, and only `dagster-daemon` takes runs off the queue:
this script first watches the run wait without a daemon (it stays QUEUED), then starts the
daemon and times the rest. Every process it starts is in one process group, stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks.run import write_results
from orchestration.paths import PROJECT_ROOT, RAW_DIR_ENV, WAREHOUSE_ENV

BIN = Path(sys.executable).parent
JOB = "warehouse"
READY_LIMIT_S = 300  # guards against a hung start; not a measure
RUN_LIMIT_S = 1800
RESULTS_BLOCK = "ui-path"  # between <!-- bench:ui-path:start/end --> in RESULTS.md

WORKSPACE = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename
          ... on RepositoryLocation { repositories { name } }
          ... on PythonError { message stack } } } }
    ... on PythonError { message } } }
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
    ... on Run { status startTime endTime
      stepStats { stepKey status startTime endTime } }
    ... on PythonError { message }
  }
}
"""
ENDED = {"SUCCESS", "FAILURE", "CANCELED"}


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


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopping it reaches its code servers too
        )


def stop_process_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the whole group (webserver, daemon, code server, run workers), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)


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


def wait_loaded(url: str, process: subprocess.Popen, log: Path) -> dict:
    """Poll until the code location has loaded: the selector of the job."""
    deadline = time.monotonic() + READY_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the webserver exited ({process.returncode}); see {log}")
        if loaded := loaded_location(url):
            location, repository = loaded
            return {
                "repositoryLocationName": location,
                "repositoryName": repository,
                "pipelineName": JOB,
            }
        time.sleep(0.2)
    raise TimeoutError(f"no code location after {READY_LIMIT_S} s; see {log}")


def run_state(url: str, run_id: str) -> dict:
    return graphql(url, RUN, {"runId": run_id})["runOrError"]


def watch(url: str, run_id: str, seconds: float) -> tuple[dict, dict[str, float]]:
    """Poll the run for up to `seconds` or until it ends: its last state, when each status began."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + seconds
    while True:
        state = run_state(url, run_id)
        seen.setdefault(state["status"], time.monotonic())
        if state["status"] in ENDED or time.monotonic() >= deadline:
            return state, seen
        time.sleep(0.25)


def measure(raw: Path, queue_wait: float, folder: Path) -> list[tuple[str, str]]:
    """Every timing of the UI path, as (what, value) pairs for the report."""
    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    log = folder / "ui_path.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        WAREHOUSE_ENV: str(folder / "warehouse.duckdb"),
        RAW_DIR_ENV: str(raw.resolve()),
        "DBT_TARGET_PATH": str(folder / "target"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    # The manifest the code location loads, prepared as `make run` prepares it.
    subprocess.run(
        [sys.executable, "-m", "orchestration.prepare"], cwd=PROJECT_ROOT, env=env, check=True
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workspace = ["-w", str(PROJECT_ROOT / "workspace.yaml")]
    load = os.getloadavg()[0]
    clock = time.monotonic()
    webserver = start(
        [str(BIN / "dagster-webserver"), *workspace, "-h", "127.0.0.1", "-p", str(port)], env, log
    )
    daemon = None
    try:
        selector = wait_loaded(url, webserver, log)
        ready = time.monotonic() - clock
        clock = time.monotonic()
        answer = graphql(url, LAUNCH, {"executionParams": {"selector": selector}})["launchRun"]
        if answer["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launchRun: {answer}")
        run_id = answer["run"]["runId"]
        launched = time.monotonic() - clock
        state, _ = watch(url, run_id, queue_wait)
        queued_status = state["status"]

        clock = time.monotonic()
        daemon = start([str(BIN / "dagster-daemon"), "run", *workspace], env, log)
        state, seen = watch(url, run_id, RUN_LIMIT_S)
        ended = time.monotonic()
        steps = sorted(
            (s for s in state["stepStats"] if s["startTime"] and s["endTime"]),
            key=lambda s: s["startTime"],
        )
        step_s = sum(s["endTime"] - s["startTime"] for s in steps)
        dequeued = min(
            (at for status, at in seen.items() if status not in ("QUEUED",)), default=ended
        )
        run_s = (state["endTime"] or 0) - (state["startTime"] or 0)
        return [
            ("load average (1 min) at the start", f"{load:.2f}"),
            ("webserver start until the code location is loaded", f"{ready:.1f} s"),
            ("`launchRun` answered", f"{launched:.2f} s"),
            (
                f"status {queue_wait:.0f} s after launch, no daemon running",
                f"{queued_status} (the queue needs `dagster-daemon`)",
            ),
            ("daemon start until the run leaves the queue", f"{dequeued - clock:.1f} s"),
            ("run start to end (its startTime, endTime)", f"{run_s:.1f} s"),
            ("of which inside steps", f"{step_s:.1f} s ({len(steps)} steps)"),
            ("daemon start until the run ended", f"{ended - clock:.1f} s"),
            ("final status", state["status"]),
        ]
    finally:
        if daemon is not None:
            stop_process_group(daemon)
        stop_process_group(webserver)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=PROJECT_ROOT / "raw", help="raw/ folder")
    parser.add_argument(
        "--queue-wait", type=float, default=15, help="seconds to watch the run without a daemon"
    )
    parser.add_argument("--results", type=Path, help="update the UI-path part of this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if not any(args.raw.glob("*/figures.csv")):
        parser.error(
            f"--raw {args.raw} holds no source folder (<id>/figures.csv); `make bench` "
            "generates the synthetic corpora under .bench/corpus/"
        )
    folder = Path(tempfile.mkdtemp(prefix="ui-path-"))
    print(f"Folder: {folder} (log: {folder / 'ui_path.log'})", flush=True)
    try:
        rows = measure(args.raw, args.queue_wait, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = f"Run of {stamp} (`python -m benchmarks.ui_path`), raw/ = `{args.raw}`\n\n"
    text += "| step of the UI path | time |\n|---|---|\n"
    text += "".join(f"| {what} | {value} |\n" for what, value in rows)
    print(text)
    if args.results:
        write_results(args.results, {RESULTS_BLOCK: text})
    return 0


if __name__ == "__main__":
    sys.exit(main())
