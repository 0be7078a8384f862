"""Shared fixtures: a prepared dbt manifest, a temporary warehouse, and full pipeline runs."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.paths import (
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    RAW_DIR_ENV,
    WAREHOUSE_ENV,
    dbt_target_dir,
)
from orchestration.prepare import PREPARED, stale

# Dagster is imported where a run starts: pytest's main process under xdist runs no test and
# starts a second sooner without it.
if TYPE_CHECKING:
    import dagster as dg

# Tests never use the project's Dagster instance (.dagster_home, which `make` exports): those that
# hash raw/ folders in this process keep the hashes in a folder of their own
# (orchestration/ingestion/folder_hashes.py); tests that start Dagster give it their own instance.
_dagster_home = tempfile.mkdtemp(prefix="dagster-home-")
os.environ["DAGSTER_HOME"] = _dagster_home
atexit.register(shutil.rmtree, _dagster_home, True)


def prepared_target(target: Path, prepared: Path | None = None) -> Path:
    """A dbt target folder of its own holding the parse `make` prepared (in `prepared`, by
    default this process's target folder), so that a dbt command in it parses nothing, as a
    run's does."""
    prepared = prepared or dbt_target_dir()
    target.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.json", "partial_parse.msgpack", "semantic_manifest.json", PREPARED):
        if (prepared / name).exists():
            shutil.copy2(prepared / name, target / name)
    return target


# Under pytest-xdist (make test, make test-fast) each worker process is a suite of its own: its dbt runs get
# their own target folder, or two workers' dbt would write one partial parse and manifest at once.
# Set before anything imports the dbt project (orchestration/transformation.py reads it).
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER and not os.environ.get("DBT_TARGET_PATH"):
    os.environ["DBT_TARGET_PATH"] = f"target/{WORKER}"
    prepared_target(DBT_PROJECT_DIR / "target" / WORKER, DBT_PROJECT_DIR / "target")

# The seed source: tests copy this folder alone, never the whole of raw/, which grows by a
# folder every quarter.
SEED_SOURCE = PROJECT_ROOT / "raw" / "hedgehog-2025-03-27"
SEED_FIGURES = SEED_SOURCE / "figures.csv"
MANIFEST = dbt_target_dir() / "manifest.json"


# The layers of the suite (pyproject.toml registers them): `make test-fast` runs the unit tests.
SYSTEM_DIR = Path(__file__).parent / "system"
BUILDING_FIXTURES = {"built_warehouse"}


LAYERS = ("system", "integration", "unit")


def pytest_collection_modifyitems(config, items):
    """unit: no pipeline run; integration: a pipeline run in this process (fixtures, dbt,
    Dagster); system: real processes, the UI, kills (tests/system/).

    The system layer runs first, then integration, then unit, each file's tests together:
    under `make test` (`--dist loadfile --no-loadscope-reorder`) a worker takes the next file
    when it is free, so the longest files start first and the many short ones fill the end,
    where both workers would otherwise wait for one long file."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(SYSTEM_DIR):
            item.add_marker(pytest.mark.system)
        elif item.get_closest_marker("integration") or BUILDING_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)
    items.sort(key=lambda item: LAYERS.index(layer_of(item)))


def layer_of(item) -> str:
    return next(m for m in LAYERS if item.get_closest_marker(m))


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """dagster-dbt reads target/manifest.json at import, and every test run's dbt the parse beside
    it: prepare them when they are missing or stale (as `make` would; for `pytest` run alone)."""
    if stale():
        subprocess.run(
            [sys.executable, "-m", "orchestration.prepare"], cwd=PROJECT_ROOT, check=True
        )
    return MANIFEST


@pytest.fixture(scope="session", autouse=True)
def dbt_on_path():
    """dagster-dbt runs `dbt` from PATH: make it the one beside this interpreter."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ["PATH"]


def copy_raw(target: Path) -> Path:
    """A private raw/ folder holding a copy of the seed source, to change in a test."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SEED_SOURCE, target / SEED_SOURCE.name)
    return target


LAYER = {"now": "unit"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Note the layer of the test about to run (before its fixtures, which may build), so that
    a unit test cannot start a full run unseen."""
    LAYER["now"] = layer_of(item)


def run_warehouse(warehouse: Path, raw: Path, checks: bool = True) -> dg.ExecuteInProcessResult:
    """One full run of the warehouse job (every asset and check) into `warehouse`; without
    `checks`, every asset and no check, as a launch with the checks unticked runs it."""
    import dagster as dg

    from orchestration.definitions import defs

    assert LAYER["now"] != "unit", "a test that runs the pipeline is an integration test: mark it"

    old = {key: os.environ.get(key) for key in (WAREHOUSE_ENV, RAW_DIR_ENV)}
    os.environ[WAREHOUSE_ENV], os.environ[RAW_DIR_ENV] = str(warehouse), str(raw)
    try:
        job = defs.resolve_job_def("warehouse")
        if not checks:
            job = job.get_subset(
                asset_selection=job.asset_layer.executable_asset_keys, asset_check_selection=set()
            )
        return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        e.event_specific_data.check_name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def copy_state(built: Path, folder: Path) -> Path:
    """A private copy of a folder a run built (its warehouse, published builds, raw/ and, for
    `make run`, Dagster instance), for a test to go on from: `folder`."""
    shutil.copytree(
        built,
        folder,
        symlinks=True,  # the published snapshot's stable paths stay links into builds/
        ignore=shutil.ignore_patterns("*.lock"),
        dirs_exist_ok=True,
    )
    return folder


def copy_built(built_warehouse: Path, folder: Path) -> tuple[Path, Path]:
    """A private copy of the seed's built folder (built_warehouse), for a test whose first run
    would be that build: (warehouse, raw)."""
    copy_state(built_warehouse.parent, folder)
    return folder / built_warehouse.name, folder / "raw"


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> Path:
    """The seed data, run once through the whole pipeline; shared by read-only tests."""
    folder = tmp_path_factory.mktemp("built")
    warehouse = folder / "warehouse.duckdb"
    result = run_warehouse(warehouse, copy_raw(folder / "raw"))
    assert result.success, [e.message for e in result.all_events if "FAILURE" in e.event_type_value]
    assert failed_checks(result) == []
    return warehouse
