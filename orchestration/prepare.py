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
from pathlib import Path

from orchestration.paths import (
    DBT_PROJECT_DIR,
    WAREHOUSE_ENV,
    dbt_executable,
    dbt_process,
    dbt_project_files,
    dbt_target_dir,
    warehouse_location,
)

# Touched in the target folder once the parse is prepared: a parse newer than it was written by
# another dbt command since (the Makefile's rule for the same file says when it prepares again).
PREPARED = ".prepared"


def prepare() -> None:
    """Parse the project with the profile the runs use: the warehouse file named as their dbt
    opens it (paths.dbt_process). The parse opens no database: dbt starts in the project,
    where the warehouse's folder may not exist yet."""
    _folder, env = dbt_process(DBT_PROJECT_DIR, {**os.environ, WAREHOUSE_ENV: warehouse_location()})
    subprocess.run([dbt_executable(), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, env=env, check=True)
    (dbt_target_dir() / PREPARED).touch()


def stale(target: Path | None = None, project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Whether the parse in dbt's target folder is not the one `prepare` made: missing, older
    than a dbt file, or written since by a dbt command for a profile of its own (the Makefile
    asks the same of its files before `make run`, `make ui` and `make test`)."""
    target = target or dbt_target_dir()
    stamp, parse = target / PREPARED, target / "partial_parse.msgpack"
    if not all(p.exists() for p in (stamp, parse, target / "manifest.json")):
        return True
    prepared = stamp.stat().st_mtime
    newest = max(p.stat().st_mtime for p in [parse, *dbt_project_files(project_dir)])
    return newest > prepared


if __name__ == "__main__":
    try:
        prepare()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
