"""Where things live, and the one environment variable that moves the warehouse.

Pure Python: the schemas, the loader, dbt's profile and the tests all agree on these.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

WAREHOUSE_ENV = "WAREHOUSE_PATH"
RAW_DIR_ENV = "RAW_DIR"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_RAW_DIR = PROJECT_ROOT / "raw"


def warehouse_path() -> Path:
    """The DuckDB file the pipeline writes: $WAREHOUSE_PATH, else data/warehouse.duckdb."""
    return Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE).resolve()


def raw_dir() -> Path:
    """The folder of source folders: $RAW_DIR, else raw/."""
    return Path(os.environ.get(RAW_DIR_ENV) or DEFAULT_RAW_DIR).resolve()


def display(path: Path) -> str:
    """A path as a user would type it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
