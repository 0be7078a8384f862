"""Whether a dbt build may be incremental: the record of the last complete, successful one.

The two large models (`int_figures_joined`, `marts.figures`) are built incrementally by
source (dbt_project/models/intermediate/int_figures_joined.sql). That is exact only on top of a
complete build made by the same dbt project, so the warehouse keeps one row, `meta.dbt_build`,
written when a build of every dbt model succeeded and deleted before any build starts. A build
is a full refresh when:

- there is no such row (a new warehouse, or the last build failed, was killed or built a subset);
- the dbt project or the locked packages differ from the ones that row was made with;
- the run asks for one: the run tag `giants/full_refresh=true` (the UI's launchpad) or
  `FULL_REFRESH=1` in the environment (`make rebuild`);
- the run selects only some of the dbt models (a subset is rebuilt in full, and the next
  complete build is a full refresh too).

Pure Python and DuckDB; no Dagster.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FULL_REFRESH_ENV = "FULL_REFRESH"
FULL_REFRESH_TAG = "giants/full_refresh"
TRUE = ("1", "true", "yes")
TABLE = "meta.dbt_build"


@dataclass(frozen=True)
class Mode:
    """How this build goes, and why (shown in the run's log and kept in meta.dbt_build)."""

    full_refresh: bool
    reason: str

    @property
    def name(self) -> str:
        return "full" if self.full_refresh else "incremental"


def asked_for_full_refresh(tags: dict[str, str] | None) -> bool:
    tagged = (tags or {}).get(FULL_REFRESH_TAG, "")
    return tagged.lower() in TRUE or os.environ.get(FULL_REFRESH_ENV, "").lower() in TRUE


def last_build(conn) -> tuple[str, str] | None:
    """(project hash, run id) of the last complete successful build, if it is recorded."""
    exists = conn.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'meta' and table_name = 'dbt_build'"
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = conn.execute(f"select project_hash, run_id from {TABLE}").fetchall()
    return rows[0] if len(rows) == 1 else None


def choose_mode(conn, tags: dict[str, str] | None, complete: bool, current_hash: str) -> Mode:
    """Full refresh or incremental, by the rules of this module's opening comment."""
    if asked_for_full_refresh(tags):
        return Mode(True, "a full refresh was asked for")
    if not complete:
        return Mode(True, "the run builds only some of the dbt models, or leaves out their tests")
    last = last_build(conn)
    if last is None:
        return Mode(True, "no complete successful build is recorded in this warehouse")
    if last[0] != current_hash:
        return Mode(True, "the dbt project changed since the last complete build")
    return Mode(False, f"on top of the complete build of run {last[1][:8]}")


def forget(conn) -> None:
    """Before a build starts: until it succeeds, the warehouse holds no complete build."""
    conn.execute("create schema if not exists meta")
    conn.execute(f"drop table if exists {TABLE}")


def record(conn, current_hash: str, run_id: str, mode: Mode) -> None:
    """After a build of every model succeeded: the next build may be incremental."""
    conn.execute("create schema if not exists meta")
    conn.execute(
        f"create or replace table {TABLE} as select ?::varchar as project_hash, "
        "?::varchar as run_id, ?::varchar as mode, ?::varchar as reason, now() as built_at",
        [current_hash, run_id, mode.name, mode.reason],
    )
