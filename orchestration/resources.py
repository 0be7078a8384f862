"""Resources, configured from the environment: the DuckDB warehouse and the dbt CLI.

WAREHOUSE_PATH is the one switch for where data goes; it is set here when unset, so the dbt
subprocess (dbt_project/profiles.yml) and Dagster always open the same file.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.paths import DBT_PROJECT_DIR, WAREHOUSE_ENV, warehouse_path

os.environ.setdefault(WAREHOUSE_ENV, str(warehouse_path()))


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's venv), else whatever PATH finds."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.is_file() else (shutil.which("dbt") or "dbt")


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources every asset and check may ask for, by name."""
    return {
        "duckdb": DuckDBResource(database=dg.EnvVar(WAREHOUSE_ENV)),
        "dbt": DbtCliResource(
            project_dir=os.fspath(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }
