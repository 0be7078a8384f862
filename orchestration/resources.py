"""Resources, configured from the environment: the DuckDB warehouse and the dbt CLI.

WAREHOUSE_PATH is the one switch for where data goes; it is set here (made absolute, or to
`md:<database>` under DBT_TARGET=motherduck: orchestration/paths.py), so the dbt subprocess
(dbt_project/profiles.yml) and Dagster always open the same database.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import sys
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging import version

from orchestration.dbt_server import dbt_started_ahead
from orchestration.locking import run_lock_resource
from orchestration.paths import (
    DBT_PROJECT_DIR,
    GUARDED_DBT,
    REAL_DBT_ENV,
    WAREHOUSE_ENV,
    dbt_executable,
    is_motherduck,
    warehouse_location,
)

# The project's name for the MotherDuck token (as in dbt's profile), and the name MotherDuck's
# DuckDB extension reads it from, which Dagster's connections rely on.
MOTHERDUCK_TOKEN_ENV = "MOTHERDUCK_TOKEN"
DUCKDB_TOKEN_ENV = "motherduck_token"


def configure_environment() -> str:
    """Point WAREHOUSE_PATH at the warehouse everything must use, and return it."""
    location = warehouse_location()
    os.environ[WAREHOUSE_ENV] = location
    os.environ.setdefault(REAL_DBT_ENV, dbt_executable())
    if is_motherduck(location) and MOTHERDUCK_TOKEN_ENV in os.environ:
        os.environ.setdefault(DUCKDB_TOKEN_ENV, os.environ[MOTHERDUCK_TOKEN_ENV])
    return location


configure_environment()


class WarehouseDbtCliResource(DbtCliResource):
    """DbtCliResource that starts dbt through orchestration/bin/dbt (so dbt dies with the run),
    started ahead of the dbt step (orchestration/dbt_server.py), and without two start-up costs
    that buy this project nothing (seconds a run: benchmarks/RESULTS.md).

    Before each dbt command, DbtCliResource runs `dbt --version` in a subprocess and loads dbt's
    adapter and macros into the Dagster process. The adapter serves only
    `fetch_row_counts()` and `fetch_column_metadata()`, which no asset here calls; and the dbt
    started is the dbt-core installed beside this Python. Both hooks are private to dagster-dbt,
    whose version uv.lock pins: tests/test_scaling.py fails if they change shape.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        real = Path(os.environ.get(REAL_DBT_ENV) or self.dbt_executable)
        if real.parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[DbtCliResource]:
        """While a run that uses dbt goes on: a dbt server, importing dbt-core from its start."""
        with dbt_started_ahead(), super().yield_for_execution(context) as resource:
            yield resource


MEMORY_LIMIT_ENV = "DUCKDB_MEMORY_LIMIT"


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources every asset and check may ask for, by name."""
    return {
        "duckdb": DuckDBResource(
            database=dg.EnvVar(WAREHOUSE_ENV),
            # as dbt_project/profiles.yml: a bounded DuckDB that spills to disk
            connection_config={"memory_limit": os.environ.get(MEMORY_LIMIT_ENV) or "3GB"},
        ),
        "dbt": WarehouseDbtCliResource(
            project_dir=os.fspath(DBT_PROJECT_DIR), dbt_executable=os.fspath(GUARDED_DBT)
        ),
        "run_lock": run_lock_resource(),
    }
