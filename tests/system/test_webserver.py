"""The real Dagster UI: launch the whole `warehouse` job over GraphQL, as its page does, and read
the warehouse it built; then the freshness daemon reports the marts fresh."""

import base64
import shutil
import time

import pytest
from playwright.sync_api import sync_playwright

from orchestration.paths import PROJECT_ROOT
from orchestration.published_copy import FROM_PREVIOUS_AHEAD
from orchestration.snapshots import current_build
from tests.conftest import query
from tests.helpers import copy_written, svg_build_id
from tests.system.webserver import CHROMIUM, CHROMIUM_ARGS, UI_WAIT_MS, Webserver
from tests.system.webserver import webserver as start_webserver

TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
COMPANY_SEGMENTS = ["marts", "company_segments"]
SEED = "hedgehog-2025-03-27"
SYNTHETIC = PROJECT_ROOT / "tests" / "fixtures" / "synthetic-2025-01-01"
TICK_LIMIT_S = 180  # the daemon ticks the sensor every 30 s; a guard, not a measure

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
    with start_webserver(tmp_path_factory.mktemp("webserver")) as server:
        yield server


def freshness(server: Webserver) -> str:
    node = server.graphql(FRESHNESS, {"assetKey": {"path": COMPANY_SEGMENTS}})
    return node["assetNodeOrError"]["freshnessStatusInfo"]["freshnessStatus"]


def run_errors(server: Webserver, run_id: str) -> list[str]:
    events = server.graphql(RUN_ERRORS, {"runId": run_id})["logsForRun"].get("events", [])
    return [f"{e.get('stepKey')}: {e['message']}" for e in events if e.get("level") == "ERROR"]


@pytest.fixture(scope="module")
def warehouse_run(webserver) -> dict:
    """One *Materialize all* of the `warehouse` job, launched and polled over GraphQL."""
    before = freshness(webserver)
    launched = time.monotonic()
    run_id = webserver.launch(everything=True)
    run = webserver.wait(run_id)
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
    assert query(webserver.published / "giants.duckdb", sql) == [(197.7,)]


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: see test_ui.py")
def test_the_chart_shows_in_the_assets_metadata_in_the_ui(webserver, warehouse_run):
    """The published chart's asset page, in headless Chromium: its `chart` metadata opens as an
    image of the build's SVG."""
    assert warehouse_run["status"] == "SUCCESS"
    build_id = current_build(webserver.published).build_id
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(UI_WAIT_MS)
            webserver.graphql("mutation { setNuxSeen }")  # no first-visit dialog over the page
            page.goto(f"{webserver.url}/assets/published/segment_revenue_chart")
            page.get_by_text("[Show Markdown]").first.click()
            image = page.locator('img[alt="Segment revenue by company"]').first
            image.wait_for()
            page.wait_for_function("i => i.complete", arg=image.element_handle())
            src, width = image.evaluate("i => [i.src, i.naturalWidth]")
        finally:
            browser.close()
    prefix = "data:image/svg+xml;base64,"
    assert src.startswith(prefix) and width > 500
    assert svg_build_id(base64.b64decode(src.removeprefix(prefix)).decode()) == build_id


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
    """The daemon ticks the sensor (on by default): a new folder, once settled, requests a run
    of the `warehouse` job that loads and publishes it."""
    assert warehouse_run["status"] == "SUCCESS"
    status, _ = sensor_ticks(webserver)
    assert status == "RUNNING"
    shutil.copytree(SYNTHETIC, webserver.raw / SYNTHETIC.name)
    added = time.monotonic()
    deadline = added + TICK_LIMIT_S
    run = None
    while run is None and time.monotonic() < deadline:
        for tick in sensor_ticks(webserver)[1]:
            for run_id in tick["runIds"]:
                candidate = webserver.status(run_id)
                tags = {tag["key"]: tag["value"] for tag in candidate["tags"]}
                if tags.get("raw/added") == SYNTHETIC.name:
                    run = (run_id, tags)
        time.sleep(1)
    assert run is not None, webserver.log_tail()
    run_id, tags = run
    ended = webserver.wait(run_id)
    print(
        f"\nsensor run {run_id}: {ended['status']} {time.monotonic() - added:.1f} s after the copy"
    )
    assert ended["status"] == "SUCCESS", run_errors(webserver, run_id) or webserver.log_tail()
    assert tags["dagster/sensor_name"] == "raw_folder_sensor"
    # the second build: its copy is the first build's file, copied by the run's dbt step while
    # dbt built (orchestration/copy_ahead.py), in the run worker the daemon started
    assert copy_written(webserver.home, run_id) == FROM_PREVIOUS_AHEAD
    sources = query(
        webserver.published / "giants.duckdb", "select source_id from marts.sources order by 1"
    )
    assert sources == [(SEED,), (SYNTHETIC.name,)]
