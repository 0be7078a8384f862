"""The real Dagster UI (`dagster dev`, as `make ui` starts it) on a private instance and warehouse.

`dagster dev` rather than `dagster-webserver` alone: the instance runs one run at a time, so runs
go through the queue, and only the daemon that `dagster dev` starts takes them off it. The daemon
also ticks the sensors and evaluates the marts' freshness policies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestration.ui import Dev, dagster_dev
from tests.conftest import copy_raw
from tests.helpers import run_env

SETTLE_SECONDS = "2"
# The daemon looks at its sensors every 5 s at most: the raw/ sensor at each of its loops here.
SENSOR_INTERVAL_SECONDS = "5"
# Debian's chromium, which the browser tests drive (test_webserver.py says how it is installed).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UI_WAIT_MS = 90_000  # a guard for a slow first page load, not a measure of speed


@dataclass
class Webserver:
    """A running `dagster dev` and the private folders it reads and writes."""

    dev: Dev
    home: Path
    warehouse: Path
    published: Path
    raw: Path

    def __getattr__(self, name):  # url, graphql, launch, wait, log_tail, selector, ...
        return getattr(self.dev, name)


@contextlib.contextmanager
def webserver(folder: Path, **env: str) -> Iterator[Webserver]:
    """`make ui`'s `dagster dev` with everything under `folder`. raw/ is empty while it starts,
    so that the raw/ sensor's first look requests nothing, and holds a copy of the seed once the
    UI is up: the first build is the one a test launches (the sensor leaves a folder alone
    until it has settled, and then while a run is queued or in progress)."""
    raw = folder / "raw"
    raw.mkdir()
    environment = run_env(
        folder,
        raw,
        **{
            "RAW_SETTLE_SECONDS": SETTLE_SECONDS,
            "RAW_SENSOR_INTERVAL_SECONDS": SENSOR_INTERVAL_SECONDS,
            **env,
        },
    )
    with dagster_dev(environment, folder / "dagster-dev.log") as dev:
        print(f"\nwebserver ready (code location loaded) in {dev.ready_s:.1f} s")
        copy_raw(raw)
        warehouse = Path(environment["WAREHOUSE_PATH"])
        yield Webserver(
            dev=dev,
            home=Path(environment["DAGSTER_HOME"]),
            warehouse=warehouse,
            published=warehouse.parent / "published",
            raw=raw,
        )
