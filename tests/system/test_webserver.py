"""The real Dagster UI, one `dagster dev` for the module: launch the whole `warehouse` job over
GraphQL, as its page does, and read the warehouse it built; the freshness daemon reports the
marts fresh; the raw/ sensor builds a folder added; and, in headless Chromium, the chart in the
assets' metadata and the asset graph from raw to staging to marts.

The browser tests need Debian's chromium at /usr/bin/chromium (`make test` and `make ui-check`
install it as root where apt-get exists; elsewhere they skip and say why). The asset graph's
screenshot lands in .artifacts/ui/ (git-ignored).
"""

import base64
import shutil
import time

import pytest
from playwright.sync_api import expect, sync_playwright

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
SCREENSHOT = PROJECT_ROOT / ".artifacts" / "ui" / "asset-graph.png"
# One asset of each layer, by the name the graph shows on its node (the graph shortens names
# longer than about 18 characters, stg_articles__figures to stg_arti…__figures: pick short ones).
LAYERS = {"raw": "figures_rejected", "staging": "int_figures_joined", "marts": "company_segments"}
VIEWPORT = {"width": 1800, "height": 2600}  # tall: the layers stack top to bottom
ZOOM_OUTS = 2  # further out, the graph draws boxes without names
ZOOM_SETTLE_MS = 10_000
NO_CHROMIUM = (
    f"{CHROMIUM} is missing: `make ui-check` installs it (as root, with apt-get), "
    "or run `apt-get install chromium`"
)
TICK_LIMIT_S = 180  # the daemon ticks the sensor every 5 s here; a guard, not a measure

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


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
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


def all_visible(locators, within_ms: int) -> bool:
    try:
        for locator in locators:
            expect(locator.first).to_be_visible(timeout=within_ms)
    except AssertionError:
        return False
    return True


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
def test_the_asset_graph_shows_raw_staging_and_marts(webserver):
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(UI_WAIT_MS)
            expect.set_options(timeout=UI_WAIT_MS)
            # A new instance greets its first visitor with a community dialog over the graph;
            # the instance remembers a dismissal (what *Skip* sends), so send it first.
            webserver.graphql("mutation { setNuxSeen }")
            started = time.monotonic()
            page.goto(f"{webserver.url}/asset-groups")  # Lineage: the global asset graph
            expect(page.get_by_text("Global asset lineage")).to_be_visible()
            # With several groups the graph starts with each group collapsed to one box: expand
            # them from the graph's context menu (right click on its empty top).
            page.get_by_role("button", name="Materialize all").wait_for()
            page.mouse.click(1000, 200, button="right")
            page.get_by_role("menuitem", name="Expand all groups").click()
            nodes = {layer: page.get_by_text(name, exact=True) for layer, name in LAYERS.items()}
            # The graph draws only the nodes inside the view: zoom out while one is missing.
            for _ in range(ZOOM_OUTS):
                if all_visible(nodes.values(), within_ms=ZOOM_SETTLE_MS):
                    break
                page.get_by_role("button", name="zoom_out").click()
            for layer, node in nodes.items():
                expect(node.first, f"the {layer} asset {LAYERS[layer]}").to_be_visible()
            rendered = time.monotonic() - started
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    print(f"\nasset graph rendered with every layer in {rendered:.1f} s: {SCREENSHOT}")
    assert SCREENSHOT.stat().st_size > 10_000
