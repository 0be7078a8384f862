"""`make run`: one full run of the warehouse job, recorded in the Dagster instance.

It prints what a user needs after a run: where the warehouse is, what it holds, what was
rejected, and a first query. When the run fails it prints one line per problem saying what is
wrong and what to do, not a traceback (the full log stays in the Dagster UI).
"""

import contextlib
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.paths import display, warehouse_path

FIRST_QUERY = (
    "select segment_name_en, headline_period_label, revenue_ranking from marts.segments "
    "where revenue_ranking is not null order by sort_order"
)

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

KNOWN_PROBLEMS = [
    (
        "Could not set lock on file",
        "the warehouse {warehouse} is open in another process (a DuckDB shell, DBeaver, a "
        "notebook or another run): close it and run again",
    ),
    (
        "No such file or directory: 'dbt'",
        "dbt is not on PATH: run through `make run`, which puts .venv/bin first",
    ),
    ("manifest.json", "the dbt manifest is missing or stale: `make run` prepares it (dbt parse)"),
]


def explain(message: str) -> str:
    """One line for a failure: a known cause and its fix, else the error's last line."""
    for needle, advice in KNOWN_PROBLEMS:
        if needle in message:
            return advice.format(warehouse=display(warehouse_path()))
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def summarize(path) -> list[str]:
    """Row counts of the tables a user queries, and the rejected rows, from the warehouse."""
    lines = []
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'marts') order by 1"
        ).fetchall()
        for (table,) in tables:
            count = conn.execute(f"select count(*) from {table}").fetchone()[0]
            lines.append(f"  {table:<28} {count:>6} rows")
        rejected = conn.execute(
            "select source_file, source_row, reason from raw.figures_rejected limit 5"
        ).fetchall()
    if rejected:
        lines.append("Rejected rows (all in raw.figures_rejected):")
        lines += [f"  {file}:{row or '-'} {reason}" for file, row, reason in rejected]
    return lines


def main() -> int:
    started = time.perf_counter()
    try:
        from orchestration.definitions import defs

        instance = dg.DagsterInstance.get()
    except Exception as error:  # a broken set-up: one line, then out
        print(f"error: {explain(str(error))}", file=sys.stderr)
        return 2
    log_path = Path(instance.root_directory) / "logs" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"Running the warehouse job: load raw/, validate, dbt build (log: {display(log_path)})")
    with log_path.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        result = defs.resolve_job_def("warehouse").execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET
        )
    seconds = time.perf_counter() - started
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    path = warehouse_path()
    if not result.success:
        print(f"The run failed after {seconds:.1f} s (run {result.run_id}):", file=sys.stderr)
        for event in failures:
            error = event.event_specific_data.error
            text = error.to_string() if error else (event.message or "")
            print(f"  {event.step_key}: {explain(text)}", file=sys.stderr)
        for check in checks:
            print(f"  check {check.check_name} failed on {check.asset_key.to_user_string()}")
        print(f"Details: {display(log_path)}, or `make ui`, then Runs.", file=sys.stderr)
        return 1
    print(f"Warehouse built in {seconds:.1f} s: {display(path)}")
    for line in summarize(path):
        print(line)
    for check in checks:
        print(f"Warning: check {check.check_name} on {check.asset_key.to_user_string()} failed")
    print("\nA first query:")
    print(f'  make sql Q="{FIRST_QUERY}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
