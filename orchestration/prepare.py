"""Prepare dbt for runs: `dbt parse` once, so that no run parses the project again.

    python -m orchestration.prepare        (the Makefile does it when a dbt file changed)

dagster-dbt reads `target/manifest.json` when the definitions are imported, so it must exist
before Dagster starts. dbt also writes its partial parse beside it, which lets the next dbt
command skip parsing, but only when the profile is the same, and the profile names the database
path. `make run` builds in a copy beside the warehouse (orchestration/run.py), so the parse is
made with that path and kept where the runs look for it (`orchestration/transformation.py`):
the first `make run` after a change then parses nothing either. Runs from the UI, which write the
warehouse in place, parse once and keep their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.paths import (
    DBT_PROJECT_DIR,
    PARTIAL_PARSE,
    WAREHOUSE_ENV,
    dbt_executable,
    dbt_target_dir,
    run_location,
    save_parse,
    warehouse_location,
)


def prepare() -> Path:
    """Parse the project as a `make run` will run it; the partial parse file it keeps."""
    location = run_location(warehouse_location())
    subprocess.run(
        [dbt_executable(), "parse", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, WAREHOUSE_ENV: location},
        check=True,
    )
    return save_parse(dbt_target_dir() / PARTIAL_PARSE, location)


if __name__ == "__main__":
    try:
        prepare()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
