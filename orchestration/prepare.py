"""Prepare dbt for runs: `dbt parse` once, so that no run parses the project again.

    python -m orchestration.prepare   (the Makefile does it when a dbt file changed, or when a dbt
                                       command run by hand wrote a parse of its own)

dagster-dbt reads `target/manifest.json` when the definitions are imported, so it must exist
before Dagster starts. dbt also keeps its partial parse beside it; every run builds the same
working database with the same target folder (orchestration/transformation.py), so the first
run after a change parses nothing either.
"""

from __future__ import annotations

import os
import subprocess
import sys

from orchestration.paths import (
    DBT_PROJECT_DIR,
    WAREHOUSE_ENV,
    dbt_executable,
    dbt_process,
    warehouse_location,
)


def prepare() -> None:
    """Parse the project with the profile the runs use: the warehouse file named as their dbt
    opens it (paths.dbt_process). The parse opens no database: dbt starts in the project,
    where the warehouse's folder may not exist yet."""
    _folder, env = dbt_process(DBT_PROJECT_DIR, {**os.environ, WAREHOUSE_ENV: warehouse_location()})
    subprocess.run([dbt_executable(), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, env=env, check=True)


if __name__ == "__main__":
    try:
        prepare()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
