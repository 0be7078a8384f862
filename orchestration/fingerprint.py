"""What a build was made from, so that `make run` can tell when there is nothing to rebuild.

A build's inputs are raw/ (each source folder's hash: its files, its article text and the
contract), the dbt project and the pipeline's own code and lock file.
`make run` records their hash in the warehouse (`meta.builds`) when a build succeeds; when the
next `make run` finds the same hash and the published copy in place, the warehouse is current
and it stops there, in about a second instead of a full run. `FORCE=1` rebuilds anyway. Runs
from the Dagster UI and the schedule always run every step (the loader still skips unchanged
sources) and record nothing here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from orchestration.paths import DBT_PROJECT_DIR, PROJECT_ROOT, dbt_project_files

TABLE = "meta.builds"
FORCE_ENV = "FORCE"


def _code_files() -> list[tuple[str, Path]]:
    """(name, path) of every file of the dbt project and of the code a build runs."""
    dbt = dbt_project_files()
    code = [*(PROJECT_ROOT / "orchestration").rglob("*.py"), PROJECT_ROOT / "uv.lock"]
    named = [(f"dbt/{p.relative_to(DBT_PROJECT_DIR)}", p) for p in dbt]
    named += [(str(p.relative_to(PROJECT_ROOT)), p) for p in code]
    return sorted((name, path) for name, path in named if path.is_file())


def inputs_hash(raw: Path) -> str:
    """sha256 over every source folder's hash, the dbt project and the code."""
    from orchestration.ingestion.raw_files import discover, folder_hash

    digest = hashlib.sha256()
    for folder in discover(raw):
        digest.update(f"source {folder.name} {folder_hash(folder)}\n".encode())
    for name, path in _code_files():
        digest.update(f"file {name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def record(warehouse: Path, inputs: str, run_id: str) -> None:
    """Note in the warehouse that this build was made from `inputs`."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema if not exists meta")
        conn.execute(
            f"create table if not exists {TABLE} "
            "(inputs_hash varchar, run_id varchar, built_at timestamp)"
        )
        conn.execute(
            f"insert into {TABLE} values (?, ?, current_timestamp at time zone 'UTC')",
            [inputs, run_id],
        )


def last_build(warehouse: Path) -> tuple[str, object] | None:
    """(inputs hash, time) of the build in the warehouse, if `make run` recorded one."""
    if not warehouse.is_file():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            return conn.execute(
                f"select inputs_hash, built_at from {TABLE} order by built_at desc limit 1"
            ).fetchone()
    except duckdb.Error:  # no record yet, or the file is being written in place
        return None
