"""The real Dagster UI: launch the whole `warehouse` job over GraphQL, as its page does, and read
the warehouse it built; then the freshness daemon reports the marts fresh."""

import json
import shutil
import time

import pytest

from orchestration.ingestion.raw_files import folder_hash
from orchestration.paths import PROJECT_ROOT
from tests.conftest import query
from tests.webserver import RUN_LIMIT_S, Webserver, dagster_dev

TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
COMPANY_SEGMENTS = ["marts", "company_segments"]
SEED = "hedgehog-2025-03-27"
SYNTHETIC = PROJECT_ROOT / "tests" / "fixtures" / "synthetic-2025-01-01"
TICK_LIMIT_S = 180  # the daemon ticks the sensor every 30 s; a guard, not a measure

JOB_ASSETS = """
query JobAssets($selector: PipelineSelector!) {
  assetNodes(pipeline: $selector) {
    assetKey { path }
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name } }
    }
  }
}
"""

LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on Error { message }
  }
}
"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status startTime endTime tags { key value } }
  }
}
"""

RUN_ERRORS = """
query Logs($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events { __typename ... on MessageEvent { message level stepKey } }
    }
  }
}
"""

SENSOR_TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor {
      sensorState { status ticks(limit: 20) { status skipReason cursor runIds } }
    }
  }
}
"""

FRESHNESS = """
query Freshness($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode { freshnessStatusInfo { freshnessStatus } }
  }
}
"""


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> Webserver:
    with dagster_dev(tmp_path_factory.mktemp("webserver")) as server:
        yield server


def freshness(server: Webserver) -> str:
    node = server.graphql(FRESHNESS, {"assetKey": {"path": COMPANY_SEGMENTS}})
    return node["assetNodeOrError"]["freshnessStatusInfo"]["freshnessStatus"]


def materialize_all(server: Webserver, job: str) -> str:
    """Launch every asset and check of `job`, with the selection the asset graph's button sends."""
    selector = server.selector(job)
    nodes = server.graphql(JOB_ASSETS, {"selector": selector})["assetNodes"]
    selector["assetSelection"] = [{"path": node["assetKey"]["path"]} for node in nodes]
    selector["assetCheckSelection"] = [
        {"assetKey": {"path": node["assetKey"]["path"]}, "name": check["name"]}
        for node in nodes
        if node["assetChecksOrError"]["__typename"] == "AssetChecks"
        for check in node["assetChecksOrError"]["checks"]
    ]
    params = {"selector": selector, "mode": "default", "runConfigData": {}}
    launched = server.graphql(LAUNCH, {"executionParams": params})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def wait_for_run(server: Webserver, run_id: str) -> dict:
    """Poll the run until it ends; the limit only guards against a hung run."""
    deadline = time.monotonic() + RUN_LIMIT_S
    while time.monotonic() < deadline:
        run = server.graphql(RUN, {"runId": run_id})["runOrError"]
        if run.get("status") in TERMINAL:
            return run
        time.sleep(1)
    raise TimeoutError(f"run {run_id} did not finish in {RUN_LIMIT_S} s:\n{server.log_tail()}")


def run_errors(server: Webserver, run_id: str) -> list[str]:
    events = server.graphql(RUN_ERRORS, {"runId": run_id})["logsForRun"].get("events", [])
    return [f"{e.get('stepKey')}: {e['message']}" for e in events if e.get("level") == "ERROR"]


@pytest.fixture(scope="module")
def warehouse_run(webserver) -> dict:
    """One *Materialize all* of the `warehouse` job, launched and polled over GraphQL."""
    before = freshness(webserver)
    launched = time.monotonic()
    run_id = materialize_all(webserver, "warehouse")
    run = wait_for_run(webserver, run_id)
    waited = time.monotonic() - launched
    ran = (run["endTime"] or 0) - (run["startTime"] or 0)
    print(
        f"\nGraphQL run {run_id}: {run['status']} {waited:.1f} s after launch ({ran:.1f} s running)"
    )
    return {**run, "runId": run_id, "freshness_before": before}


def test_materialize_all_through_graphql_builds_the_warehouse(webserver, warehouse_run):
    run_id = warehouse_run["runId"]
    assert warehouse_run["status"] == "SUCCESS", (
        run_errors(webserver, run_id) or webserver.log_tail()
    )
    sql = (
        "select revenue_cny_bn from marts.company_segments "
        "where company_segment_id = 'tencent|games||2024'"
    )
    assert query(webserver.warehouse, sql) == [(197.7,)]


def test_the_freshness_daemon_reports_the_marts_fresh_after_the_build(webserver, warehouse_run):
    """Unknown before the first build; then the daemon (every 5 s here) finds the marts fresh."""
    assert warehouse_run["freshness_before"] == "UNKNOWN"
    assert warehouse_run["status"] == "SUCCESS"
    deadline = time.monotonic() + 120  # a guard: the daemon evaluates every 5 s
    status = freshness(webserver)
    while status != "HEALTHY" and time.monotonic() < deadline:
        time.sleep(1)
        status = freshness(webserver)
    assert status == "HEALTHY", webserver.log_tail()


def sensor_ticks(server: Webserver) -> tuple[str, list[dict]]:
    """The raw/ sensor's state and its ticks, oldest first."""
    selector = {
        "repositoryLocationName": server.location,
        "repositoryName": server.repository,
        "sensorName": "raw_folder_sensor",
    }
    state = server.graphql(SENSOR_TICKS, {"selector": selector})["sensorOrError"]["sensorState"]
    return state["status"], list(reversed(state["ticks"]))


def wait_for_tick(server: Webserver, status: str) -> dict:
    deadline = time.monotonic() + TICK_LIMIT_S
    while time.monotonic() < deadline:
        ticks = [tick for tick in sensor_ticks(server)[1] if tick["status"] == status]
        if ticks:
            return ticks[-1]
        time.sleep(1)
    raise TimeoutError(f"no {status} tick of raw_folder_sensor in {TICK_LIMIT_S} s")


def test_the_running_sensor_rebuilds_the_warehouse_when_a_source_is_added(webserver, warehouse_run):
    """The daemon ticks the sensor (on by default): first it only records raw/, then a new
    folder requests a run of the `warehouse` job that loads it."""
    first = wait_for_tick(webserver, "SKIPPED")
    status, ticks = sensor_ticks(webserver)
    assert status == "RUNNING"
    assert ticks[0]["skipReason"].startswith("Watching 1 source folder(s)")
    assert all(not tick["runIds"] for tick in ticks)
    assert json.loads(first["cursor"]) == {SEED: folder_hash(webserver.raw / SEED)}

    shutil.copytree(SYNTHETIC, webserver.raw / SYNTHETIC.name)
    added = time.monotonic()
    [run_id] = wait_for_tick(webserver, "SUCCESS")["runIds"]
    run = wait_for_run(webserver, run_id)
    print(f"\nsensor run {run_id}: {run['status']} {time.monotonic() - added:.1f} s after the copy")
    assert run["status"] == "SUCCESS", run_errors(webserver, run_id) or webserver.log_tail()
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert tags["raw/added"] == SYNTHETIC.name
    assert tags["dagster/sensor_name"] == "raw_folder_sensor"
    sources = query(webserver.warehouse, "select source_id from raw.sources order by 1")
    assert sources == [(SEED,), (SYNTHETIC.name,)]
