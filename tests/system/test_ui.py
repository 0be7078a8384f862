"""The asset graph as a user sees it: the real UI in headless Chromium, raw to staging to marts.

Needs Debian's chromium at /usr/bin/chromium (`make test` and `make ui-check` install it as root
where apt-get exists). The screenshot lands in .artifacts/ui/ (git-ignored).
"""

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from orchestration.paths import PROJECT_ROOT
from tests.system.webserver import CHROMIUM, CHROMIUM_ARGS, UI_WAIT_MS, Webserver
from tests.system.webserver import webserver as start_webserver

SCREENSHOT = PROJECT_ROOT / ".artifacts" / "ui" / "asset-graph.png"
# One asset of each layer, by the name the graph shows on its node (the graph shortens names
# longer than about 18 characters, stg_articles__figures to stg_arti…__figures: pick short ones).
LAYERS = {"raw": "figures_rejected", "staging": "int_figures_joined", "marts": "company_segments"}
VIEWPORT = {"width": 1800, "height": 2600}  # tall: the layers stack top to bottom
ZOOM_OUTS = 2  # further out, the graph draws boxes without names
ZOOM_SETTLE_MS = 10_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: `make ui-check` installs it (as root, with apt-get), "
    "or run `apt-get install chromium`",
)


def all_visible(locators, within_ms: int) -> bool:
    try:
        for locator in locators:
            expect(locator.first).to_be_visible(timeout=within_ms)
    except AssertionError:
        return False
    return True


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> Webserver:
    with start_webserver(tmp_path_factory.mktemp("ui"), RAW_SETTLE_SECONDS="86400") as server:
        yield server


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
