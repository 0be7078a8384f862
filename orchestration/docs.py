"""`make docs`: dbt's documentation as one HTML file that opens from disk.

`dbt docs generate` reads the working database's catalog, so it must not run beside a run (DuckDB
allows one writer): it takes the run lock first, and says which run holds it if one does.
"""

from __future__ import annotations

import os
import subprocess
import sys

from orchestration.locking import RunInProgress, held, lock_path
from orchestration.paths import (
    DBT_PROJECT_DIR,
    WAREHOUSE_ENV,
    dbt_executable,
    dbt_process,
    warehouse_location,
)


def main() -> int:
    try:
        with held(lock_path(), "make docs"):
            # where a run's dbt starts (paths.dbt_process): the parse `make` prepared serves
            folder, env = dbt_process(
                DBT_PROJECT_DIR, {**os.environ, WAREHOUSE_ENV: warehouse_location()}
            )
            return subprocess.run(
                [dbt_executable(), "docs", "generate", "--static", "--quiet"], cwd=folder, env=env
            ).returncode
    except RunInProgress as holder:
        print(f"error: a run is in progress ({holder}): try again when it ends", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
