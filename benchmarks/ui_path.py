"""Click to fresh published marts, three ways, side by side: *Launch run*, *Materialize all*,
`make run`.

    .venv/bin/python -m benchmarks.ui_path                       # the seed source (raw/)
    .venv/bin/python -m benchmarks.ui_path --rounds 3 --results benchmarks/RESULTS.md
    .venv/bin/python -m benchmarks.ui_path --raw .bench/corpus/10000-20241231-v2

On a private instance, warehouse and copy of raw/ in a temporary folder: `dagster dev` is started
as `make ui` starts it, and once its code location has loaded each round times, in turn,
- *Launch run* on the `warehouse` job (GraphQL `launchRun`, as the job page's button sends it),
- *Materialize all* on the asset graph (the implicit asset job with every asset and check),
- `make run FORCE=1` (`python -m orchestration.run`, as its recipe runs it),
each from the click (the request, or the process start) until a new build is the published
snapshot readers see (`data/published/current` points at it). The order rotates each round;
the median of each way is reported, with the spread.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import write_results
from orchestration.paths import PROJECT_ROOT, RAW_DIR_ENV, WAREHOUSE_ENV
from orchestration.snapshots import current_build
from orchestration.ui import dagster_dev

RESULTS_BLOCK = "ui-path"  # between <!-- bench:ui-path:start/end --> in RESULTS.md
WAYS = ("Launch run", "Materialize all", "make run")
LIMIT_S = 1800  # a guard against a hung run; not a measure


def environment(folder: Path, raw: Path) -> dict[str, str]:
    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        WAREHOUSE_ENV: str(folder / "data" / "warehouse.duckdb"),
        RAW_DIR_ENV: str(raw),
        "RAW_SETTLE_SECONDS": "86400",  # the sensor starts nothing on its own here
        "FORCE": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def wait_published(publish: Path, before: str | None, started: float) -> float:
    while time.monotonic() - started < LIMIT_S:
        build = current_build(publish)
        if build is not None and build.build_id != before:
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(f"no new build published in {LIMIT_S} s")


def one(way: str, dev, env: dict[str, str], publish: Path) -> float:
    build = current_build(publish)
    before = build.build_id if build else None
    started = time.monotonic()
    if way == "make run":
        result = subprocess.run(
            [sys.executable, "-m", "orchestration.run"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(f"make run failed: {result.stderr}")
        return wait_published(publish, before, started)
    run_id = dev.launch(everything=way == "Materialize all")
    seconds = wait_published(publish, before, started)
    ended = dev.wait(run_id)  # the run's last event comes just after the switch
    if ended["status"] != "SUCCESS":
        raise RuntimeError(f"{way}: run {run_id} {ended['status']}:\n{dev.log_tail()}")
    return seconds


def measure(raw: Path, rounds: int, folder: Path) -> str:
    local_raw = folder / "raw"
    shutil.copytree(raw, local_raw, ignore=shutil.ignore_patterns("README.md", "_*", ".*"))
    env = environment(folder, local_raw)
    publish = folder / "data" / "published"
    subprocess.run(
        [sys.executable, "-m", "orchestration.prepare"], cwd=PROJECT_ROOT, env=env, check=True
    )
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    with dagster_dev(env, folder / "dagster-dev.log") as dev:
        # a first, untimed build: every way then rebuilds a warehouse that exists
        one("make run", dev, env, publish)
        for number in range(rounds):
            order = WAYS[number % 3 :] + WAYS[: number % 3]
            for way in order:
                seconds = one(way, dev, env, publish)
                times[way].append(seconds)
                print(f"round {number + 1}: {way}: {seconds:.1f} s", flush=True)
        ready = dev.ready_s
    medians = {way: statistics.median(values) for way, values in times.items()}
    fastest = min(medians.values())
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = (
        f"Run of {stamp} (`python -m benchmarks.ui_path --rounds {rounds}`), raw/ = "
        f"`{raw}`, load average {load:.2f} at the start; `dagster dev` loaded its code "
        f"location in {ready:.1f} s.\n\n"
        "| way (click to fresh published marts) | median | runs | vs the fastest |\n"
        "|---|---|---|---|\n"
    )
    for way in WAYS:
        values = ", ".join(f"{v:.1f}" for v in times[way])
        text += f"| {way} | {medians[way]:.1f} s | {values} | +{medians[way] / fastest - 1:.0%} |\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=PROJECT_ROOT / "raw", help="raw/ folder")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three ways")
    parser.add_argument("--results", type=Path, help="update the UI-path part of this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if not any(args.raw.glob("*/figures.csv")):
        parser.error(
            f"--raw {args.raw} holds no source folder (<id>/figures.csv); `make bench` "
            "generates the synthetic corpora under .bench/corpus/"
        )
    folder = Path(tempfile.mkdtemp(prefix="ui-path-"))
    print(f"Folder: {folder}", flush=True)
    try:
        text = measure(args.raw.resolve(), args.rounds, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(text)
    if args.results:
        write_results(args.results, {RESULTS_BLOCK: text})
    return 0


if __name__ == "__main__":
    sys.exit(main())
