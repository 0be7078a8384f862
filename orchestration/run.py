"""`make run`: launch the `warehouse` job once, in this process, and say what came of it.

The job is the same one the Dagster UI, its schedule and its sensor launch, with the same
guarantees (orchestration/locking.py: one run at a time; orchestration/publish.py: readers see
the last complete build, switched in as the run's last step). This module only adds what a
terminal user needs around it:

- a run is skipped when raw/, the dbt project and the code are what the published build was
  made from (`FORCE=1` rebuilds anyway), whoever built it;
- one `error:` line per problem, saying what to do, instead of a traceback (the full log is in
  `.dagster_home/logs/last_run.log` and in the UI);
- where the snapshot is, what it holds, which figures were rejected (they are not in the marts),
  and a first query.

Exit codes: 0 built (or nothing to do); 1 the run failed; 2 nothing ran (set-up, raw/);
3 another run is in progress; 130 Ctrl-C before the job started. Make reports its own code
(2) when a recipe fails, after printing the recipe's: `bin/run` passes the code on unchanged.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration import fingerprint, snapshots
from orchestration.dbt_server import dbt_started_ahead
from orchestration.paths import (
    PUBLISHED_DATABASE,
    dbt_executable,
    dbt_target_dir,
    display,
    publish_dir,
    raw_dir,
    warehouse_path,
)

# Dagster (and the lock, which is a Dagster resource) are imported once a run is needed: a
# `make run` with nothing changed answers before them.
if TYPE_CHECKING:
    import dagster as dg

FIRST_QUERY = (
    "select segment_name_en, headline_period_label, revenue_ranking from marts.segments "
    "where revenue_ranking is not null order by sort_order"
)

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
JOB = "warehouse"
LAUNCHED_BY_TAG = "giants/launched_by"
REJECTED_SHOWN = 10

RERUN = "readers still see the previous build; run `make run` again"

NO_DBT = (
    "dbt is not installed beside this Python nor on PATH: run through `make run`, which installs "
    "it in .venv and puts .venv/bin first"
)

# A known cause (a substring of the error) and what to tell the user. {warehouse} is the
# working database's path, {path} the first quoted path in the error (else the warehouse's),
# {holder} the process DuckDB names as holding a lock.
KNOWN_PROBLEMS = [
    (
        "Could not set lock on file",
        "the working database {warehouse} is open in another process{holder}: it belongs to the "
        "pipeline; read data/published/giants.duckdb instead, close that process and run again",
    ),
    ("was not found on PATH", NO_DBT),
    ("No such file or directory: 'dbt'", NO_DBT),
    ("dbt is not installed", NO_DBT),
    (
        "DagsterDbtManifestNotFoundError",
        "the dbt manifest (dbt_project/target/manifest.json) is missing: `make run` prepares "
        "it (dbt parse), or run `.venv/bin/python -m orchestration.prepare`",
    ),
    (
        "DagsterHomeNotSetError",
        "DAGSTER_HOME is not set: `make run` and `bin/run` set it to .dagster_home/ (README, "
        "Configuration); set it yourself to run `python -m orchestration.run` directly",
    ),
    (
        "No space left on device",
        "the disk of {warehouse} is full: free space (a run writes the working database and a "
        "new published snapshot beside the current one) and run again",
    ),
    (
        "Out of Memory Error",
        "DuckDB ran out of the memory it may use ({message}): set DUCKDB_MEMORY_LIMIT higher "
        "(3GB unless set; README, Configuration) if the machine has more free, then run again",
    ),
    (
        "File too large",
        "the file size limit (ulimit -f) stops writing {path}: raise it and run again",
    ),
    (
        "cannot write the published snapshot",
        "{message}",
    ),
    (
        "Permission denied",
        "permission denied on {path}: give this user access to it, or set WAREHOUSE_PATH (or "
        "RAW_DIR, PUBLISH_DIR) to a place it can use",
    ),
    (
        "Read-only file system",
        "the file system of {path} is read-only: set WAREHOUSE_PATH to a writable place",
    ),
    ("DagsterExecutionInterruptedError", f"the run was interrupted: {RERUN}"),
    ("KeyboardInterrupt", f"the run was interrupted: {RERUN}"),
]


def explain(message: str, fallback: str | None = None) -> str:
    """One line for a failure: a known cause and its fix, else `fallback` or the last line."""
    for needle, advice in KNOWN_PROBLEMS:
        if needle in message:
            holder_pid = re.search(r"\(PID (\d+)\)", message)
            path = re.search(r"""['"](/[^'"]+)['"]""", message)
            line = next((x.strip() for x in message.splitlines() if needle in x), "")
            return advice.format(
                warehouse=display(warehouse_path()),
                path=display(Path(path.group(1))) if path else display(warehouse_path()),
                holder=f" (PID {holder_pid.group(1)})" if holder_pid else "",
                message=re.sub(r"^[\w.]+(Error|Failure|Exception): ", "", line),
            )
    if fallback:
        return fallback
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def root_cause(error) -> str:
    """`Class: first line` of the innermost error Dagster recorded: the user code's."""
    while error.cause is not None:
        error = error.cause
    first = next((line for line in error.message.splitlines() if line.strip()), "")
    return first if first.startswith(error.cls_name) else f"{error.cls_name}: {first}"


def input_problem(folder: Path) -> str | None:
    """Why raw/ cannot be loaded at all, before a run would publish an empty build."""
    if not folder.is_dir():
        return (
            f"the raw folder {display(folder)} does not exist: create it with one folder per "
            "source (raw/README.md), or set RAW_DIR to the folder that has them"
        )
    if not any(p.is_dir() and p.name[0] not in "._" for p in folder.iterdir()):
        return (
            f"the raw folder {display(folder)} holds no source folder: add raw/<source_id>/ "
            "with source.yaml and figures.csv (raw/README.md), or set RAW_DIR"
        )
    return None


def run_elsewhere(instance: dg.DagsterInstance) -> str | None:
    """A run of this instance that is queued or in progress (the UI's, the schedule's)."""
    import dagster as dg

    from orchestration.locking import IN_PROGRESS

    statuses = [dg.DagsterRunStatus.QUEUED, *IN_PROGRESS]
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=statuses), limit=1)
    return runs[0].run_id if runs else None


def summarize(database: Path) -> list[str]:
    """Row counts of the published tables, and the figures rejected (not in the marts)."""
    lines = []
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'raw') order by 1"
        ).fetchall()
        for (table,) in tables:
            count = conn.execute(f"select count(*) from {table}").fetchone()[0]
            lines.append(f"  {table:<32} {count:>7} rows")
        (total,) = conn.execute("select count(*) from raw.figures_rejected").fetchone()
        rejected = conn.execute(
            "select source_file, source_row, figure_id, reason from raw.figures_rejected "
            "order by source_file, source_row nulls first limit ?",
            [REJECTED_SHOWN],
        ).fetchall()
    if rejected:
        lines.append(
            f"{total} figure(s) rejected, NOT in the marts (all in raw.figures_rejected; "
            "`make check-source SOURCE=raw/<id>` says what to fix):"
        )
        for file, row, figure_id, reason in rejected:
            where = f"{file}:{row}" if row else file
            lines.append(f"  {where} {figure_id or '-'}: {reason}")
        if total > len(rejected):
            lines.append(f"  ... and {total - len(rejected)} more")
    return lines


def failed_checks(result: dg.ExecuteInProcessResult) -> list:
    """The evaluations of asset checks (pandera contracts, dbt tests) that did not pass."""
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]


def dbt_failures(run_results: Path, since: float = 0.0) -> list[str]:
    """One line per dbt model or seed that failed to build, from dbt's run_results.json
    written after `since` (a file left by an earlier run says nothing about this one).

    A mart's contract constraints stop a bad row in the model itself (docs/warehouse.md), so
    the step fails without a failed check: this names the model and DuckDB's reason.
    """
    try:
        if run_results.stat().st_mtime < since:
            return []
        results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    lines = []
    for result in results:
        kind, _, project_and_name = result.get("unique_id", "").partition(".")
        name = project_and_name.partition(".")[2]
        if result.get("status") != "error" or kind in ("test", "unit_test"):
            continue
        message = " ".join((result.get("message") or "").split())
        lines.append(f"dbt {kind} {name} failed to build: {message[:300]}")
    return lines


def error_lines(result: dg.ExecuteInProcessResult, started_at: float = 0.0) -> list[str]:
    """One line per reason a run failed: blocking checks, dbt tests, then other step errors."""
    import dagster as dg

    lines = []
    for check in failed_checks(result):
        if check.severity != dg.AssetCheckSeverity.ERROR:
            continue
        asset = check.asset_key.to_user_string()
        if check.asset_key.path[0] == "raw":
            lines.append(
                f"blocking check {check.check_name} failed on {asset}, so dbt did not run: see "
                "its failure cases in `make ui`; `make check-source SOURCE=raw/<id>` lists "
                "every problem of a source"
            )
        else:
            lines.append(
                f"dbt test {check.check_name} failed on {asset}: correct raw/ (or the model); "
                "the failing rows are in the check's metadata in `make ui`"
            )
    explained_by_checks = bool(lines)
    for event in result.all_events:
        if event.event_type_value == "RESOURCE_INIT_FAILURE":  # the run lock, a connection
            error = event.event_specific_data.error
            text = error.to_string() if error else (event.message or "")
            lines.append(explain(text, root_cause(error) if error else None))
            continue
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = event.event_specific_data.error
        text = error.to_string() if error else (event.message or "")
        if explained_by_checks and (
            "DagsterDbtCliRuntimeError" in text or "blocking asset check" in text.lower()
        ):
            continue  # the failed checks above are the reason
        if "DagsterDbtCliRuntimeError" in text and (
            models := dbt_failures(dbt_target_dir() / "run_results.json", started_at)
        ):
            lines.extend(models)
            continue
        lines.append(f"{event.step_key}: {explain(text, root_cause(error) if error else None)}")
    return lines or ["the run failed: see the log"]


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[None]:
    """Send everything the run prints to the log, the processes it starts included.

    Dagster's and dbt's own output goes to the log, not the terminal: the user reads the
    one-line errors, and the log when they need more. File descriptors 1 and 2 are
    redirected, not just sys.stdout.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_path.open("w", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            log.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def setup_problem(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"
    return explain(text, text.splitlines()[0])


def nothing_changed() -> str | None:
    """A line to print when the published build was made from raw/ and the code as they are."""
    if os.environ.get(fingerprint.FORCE_ENV) or input_problem(raw_dir()):
        return None
    build = snapshots.current_build(publish_dir())
    if build is None:
        return None
    if build.inputs_hash != fingerprint.inputs_hash(fingerprint.source_hashes(raw_dir())):
        return None
    return (
        f"Nothing changed since build {build.build_id} ({build.built_at} UTC): raw/, the dbt "
        f"project and the code are what it was made from, and readers see it at "
        f"{display(publish_dir() / PUBLISHED_DATABASE)}. `make run FORCE=1` rebuilds anyway."
    )


def main() -> int:
    started = time.perf_counter()
    try:
        current = nothing_changed()
    except (OSError, ValueError) as error:  # never a reason not to build
        print(f"Note: could not compare with the published build ({error}); building.")
        current = None
    if current:
        print(current)
        return 0
    if shutil.which(dbt_executable()) is None:
        return fail(NO_DBT)
    if problem := input_problem(raw_dir()):
        return fail(problem)
    from orchestration.locking import holder, lock_path

    if who := holder(lock_path()):
        return fail(
            f"another run of {display(warehouse_path())} is in progress ({who}): wait for it to "
            "finish, then run again",
            3,
        )
    with dbt_started_ahead():  # dbt-core imports while Dagster does (orchestration/dbt_server.py)
        return launch(started)


def launch(started: float) -> int:
    """Run the job in this process and report on it; `started` is when `make run` began."""
    # Dagster, the definitions and the instance's storage make a few hundred thousand objects
    # that live as long as this process: made with the collector off, then set apart
    # (gc.freeze), so that no full collection of the run, nor the last one at exit, goes through
    # them again. That last one still collects what the run made: it closes what a failed
    # step's error still holds, such as a DuckDB connection, whose WAL and spill files would
    # otherwise stay beside the warehouse.
    gc.disable()
    try:
        import dagster as dg

        from orchestration.definitions import defs  # a broken set-up fails here
        from orchestration.locking import close_dead_runs

        instance = dg.DagsterInstance.get()
    except Exception as error:
        return fail(setup_problem(error))
    finally:
        gc.freeze()
        gc.enable()
    for run_id in close_dead_runs(instance):
        print(f"Note: run {run_id} had died mid-run; marked failed.")
    if other := run_elsewhere(instance):
        return fail(
            f"run {other} (from the Dagster UI, its schedule or its sensor) is queued or in "
            "progress on this instance: wait for it to finish, or cancel it in `make ui`, then "
            "run again",
            3,
        )
    log_path = Path(instance.root_directory) / "logs" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(
        "Running the warehouse job: load raw/, validate, dbt build, publish "
        f"(log: {display(log_path)})"
    )
    started_at = time.time()
    try:
        with output_to(log_path):
            result = defs.resolve_job_def(JOB).execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config=QUIET,
                # killed, it is not retried by the instance: its user sees it end
                tags={LAUNCHED_BY_TAG: "make-run", "dagster/max_retries": "0"},
            )
    except KeyboardInterrupt:
        return fail(f"the run was interrupted: {RERUN}", 130)
    except (OSError, duckdb.Error, RuntimeError) as error:
        return fail(setup_problem(error))
    seconds = time.perf_counter() - started
    if not result.success:
        for line in error_lines(result, started_at):
            print(f"error: {line}", file=sys.stderr)
        print(
            f"The run failed after {seconds:.1f} s (run {result.run_id}); {RERUN} once fixed. "
            f"Details: {display(log_path)}, or `make ui`, then Runs.",
            file=sys.stderr,
        )
        return 1
    build = snapshots.current_build(publish_dir())
    print(f"Built and published in {seconds:.1f} s: build {build.build_id if build else '?'}")
    print(f"Readers (make sql, BI tools): {display(publish_dir() / PUBLISHED_DATABASE)}")
    if build:
        for line in summarize(build.database):
            print(line)
    for check in failed_checks(result):
        print(f"Warning: check {check.check_name} on {check.asset_key.to_user_string()} failed")
    print("\nA first query:")
    print(f'  make sql Q="{FIRST_QUERY}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
