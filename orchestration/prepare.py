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
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.paths import (
    DBT_PROJECT_DIR,
    WAREHOUSE_ENV,
    dbt_executable,
    dbt_target_dir,
    parse_cache_file,
    replace_durably,
    run_location,
    warehouse_location,
)

PARTIAL_PARSE = "partial_parse.msgpack"


def prepare() -> Path:
    """Parse the project as a `make run` will run it; the partial parse file it keeps."""
    location = run_location(warehouse_location())
    subprocess.run(
        [dbt_executable(), "parse", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, WAREHOUSE_ENV: location},
        check=True,
    )
    cache = parse_cache_file(dbt_target_dir(), location)
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_name(f".{cache.name}.prepare.tmp")
    shutil.copyfile(dbt_target_dir() / PARTIAL_PARSE, temporary)
    replace_durably(temporary, cache)
    return cache


if __name__ == "__main__":
    try:
        prepare()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
