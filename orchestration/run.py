"""`make run`: one full run of the warehouse job, recorded in the Dagster instance.

It prints what a user needs after a run: where the warehouse is, what it holds, what was
rejected, and a first query. When the run fails it prints one `error:` line per problem saying
what is wrong and what to do, not a traceback (the full log stays in the Dagster UI).

What a run guarantees, however it ends (an error, Ctrl-C, SIGKILL, a power cut):

- The warehouse file holds either the previous complete build or the new complete build, never
  a mix. The job builds into a private copy (`.<name>.build/` beside the warehouse: the raw
  load and every dbt model), and only a run that succeeded replaces the warehouse with it, by
  one atomic rename. Readers keep the file they opened until they reconnect, so a DuckDB shell
  or a BI tool open on the warehouse does not block a run.
- One run at a time per warehouse: a second `make run` exits at once with one line saying which
  process holds the lock (orchestration/locking.py), and so does a `make run` while a run from
  the Dagster UI or its schedule is in progress in the same instance. Runs the UI launches wait
  in the instance's queue (dagster.yaml: one at a time), which counts `make run`'s runs too.
- The next run recovers by itself: the lock dies with its process, the copy a killed run left
  behind is deleted, and a run it left marked as started in the Dagster instance is marked
  failed (else the queue, which counts it, would hold every later run). A dbt process that
  outlives a killed run ends at its next line of output (its pipe has no reader), and the next
  run stops any process still holding a file in the build folder before it reuses it.

A run that fails keeps its build at `.<name>.failed/<name>` until the next run, for inspection
(rejected rows, the tables dbt did build): `WAREHOUSE_PATH=<that path> make sql Q="..."`.

Exit codes: 0 built; 1 the run failed (a check, a dbt test, an error, Ctrl-C); 2 nothing ran
(set-up, raw/ or the warehouse's folder); 3 another run is in progress; 130 Ctrl-C before the
job started.

Runs started from the UI or the schedule write the warehouse in place: each raw load and each
dbt table is one transaction, so a killed run leaves every table whole and the next run rebuilds
them all, but until it does, the marts may come from different runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import fingerprint
from orchestration.locking import RunInProgress, exclusive_run
from orchestration.paths import (
    PROJECT_ROOT,
    PUBLISH_DIR_ENV,
    PUBLISHED_DATABASE,
    WAREHOUSE_ENV,
    build_dir,
    dbt_executable,
    display,
    is_motherduck,
    publish_dir,
    raw_dir,
    replace_durably,
    warehouse_path,
)

FIRST_QUERY = (
    "select segment_name_en, headline_period_label, revenue_ranking from marts.segments "
    "where revenue_ranking is not null order by sort_order"
)

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
JOB = "warehouse"
LAUNCHED_BY_TAG = "giants/launched_by"
WAREHOUSE_TAG = "giants/warehouse"
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

RERUN = "the warehouse keeps its previous data; run `make run` again"

NO_DBT = (
    "dbt is not installed beside this Python nor on PATH: run through `make run`, which installs "
    "it in .venv and puts .venv/bin first"
)

# A known cause (a substring of the error) and what to tell the user. {warehouse} is the
# warehouse's path, {path} the first quoted path in the error (else the warehouse's), {holder}
# the process DuckDB names as holding a lock.
KNOWN_PROBLEMS = [
    (
        "Could not set lock on file",
        "the warehouse {warehouse} is open in another process{holder} (a DuckDB shell, DBeaver, "
        "a notebook or a run from the Dagster UI): close it and run again",
    ),
    ("was not found on PATH", NO_DBT),
    ("No such file or directory: 'dbt'", NO_DBT),
    (
        "DagsterDbtManifestNotFoundError",
        "the dbt manifest (dbt_project/target/manifest.json) is missing: `make run` prepares "
        "it (dbt parse), or run `cd dbt_project && dbt parse`",
    ),
    (
        "No space left on device",
        "the disk of {warehouse} is full: free space (a run needs room for a second copy of "
        "the warehouse, and the published copy) and run again",
    ),
    (
        "File too large",
        "the file size limit (ulimit -f) stops writing {path}: raise it and run again",
    ),
    (
        "Permission denied",
        "permission denied on {path}: give this user access to it, or set WAREHOUSE_PATH (or "
        "RAW_DIR) to a place it can use",
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
            holder = re.search(r"\(PID (\d+)\)", message)
            path = re.search(r"""['"](/[^'"]+)['"]""", message)
            return advice.format(
                warehouse=display(warehouse_path()),
                path=display(Path(path.group(1))) if path else display(warehouse_path()),
                holder=f" (PID {holder.group(1)})" if holder else "",
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
    """Why raw/ cannot be loaded at all, before a run replaces the warehouse with nothing."""
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


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def failed_dir(warehouse: Path) -> Path:
    return warehouse.parent / f".{warehouse.name}.failed"


def holders(folder: Path) -> list[int]:
    """Processes with a file under `folder` open (Linux /proc; elsewhere none are found)."""
    prefix = str(folder.resolve()) + os.sep
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd).startswith(prefix) for fd in fd_dir.iterdir()):
                found.append(int(fd_dir.parent.name))
    return [pid for pid in found if pid != os.getpid()]


def process_running(pid: int) -> bool:
    """Alive and not a zombie (a killed child its parent has not yet waited for)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def stop_holders(folder: Path, timeout: float = 10.0) -> list[int]:
    """Kill what still writes in a killed run's build (a dbt it left behind), and wait for it.

    Such a dbt ends by itself when it next writes to its closed output pipe, but it must not
    touch the next run's copy at the same path meanwhile. Called under the run lock: no live
    run uses the folder.
    """
    pids = holders(folder)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if process_running(pid)]
        time.sleep(0.05)
    return pids


def stage(warehouse: Path) -> Path:
    """A private copy of the warehouse for this run to build in, in a folder beside it.

    Beside it, so the final rename stays on one file system; under the same file name, because
    DuckDB names a database's catalog after its file.
    """
    build = build_dir(warehouse)
    if build.exists() and (alive := stop_holders(build)):
        raise RuntimeError(
            f"process {', '.join(map(str, alive))} still writes in {display(build)} (a dbt left "
            "by a killed run?): stop it and run again"
        )
    # Builds of runs that were killed (`.build-*`: the per-run folders of earlier versions), and
    # the previous failed build: their space comes back.
    leftovers = [
        build, *warehouse.parent.glob(f".{warehouse.name}.build-*"), failed_dir(warehouse)
    ]  # fmt: skip
    for leftover in leftovers:
        shutil.rmtree(leftover, ignore_errors=True)
    build.mkdir()
    staged = build / warehouse.name
    if warehouse.exists():
        if _wal(warehouse).exists():  # a write in place (a UI run) was cut short: fold it in
            with duckdb.connect(str(warehouse)) as conn:
                conn.execute("checkpoint")
        shutil.copyfile(warehouse, staged)
    return staged


def publish(staged: Path, warehouse: Path) -> None:
    """Replace the warehouse with the build, atomically: readers see the old file or the new."""
    with duckdb.connect(str(staged)) as conn:
        conn.execute("checkpoint")  # everything in the file itself: no WAL travels or is left
    if _wal(warehouse).exists():
        raise RuntimeError(
            f"{display(warehouse)} was written in place during this run (a run from the Dagster "
            f"UI?), so this build was not published: {RERUN}"
        )
    replace_durably(staged, warehouse)
    shutil.rmtree(staged.parent, ignore_errors=True)


def keep_failed(staged: Path, warehouse: Path) -> Path | None:
    """Keep a failed build for inspection, in place of the previous failed one."""
    if not staged.exists():
        shutil.rmtree(staged.parent, ignore_errors=True)
        return None
    failed = failed_dir(warehouse)
    shutil.rmtree(failed, ignore_errors=True)
    staged.parent.rename(failed)
    return failed / warehouse.name


def recover(instance: dg.DagsterInstance, warehouse: Path) -> list[str]:
    """Mark the runs of this warehouse that `make run` started and that never ended as failed.

    Called under the run lock, so none of them is alive: their process was killed.
    """
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=JOB,
            statuses=IN_PROGRESS,
            tags={LAUNCHED_BY_TAG: "make-run", WAREHOUSE_TAG: str(warehouse)},
        )
    )
    for run in runs:
        instance.report_run_failed(run, message="Interrupted: its process ended mid-run.")
    return [run.run_id for run in runs]


def run_elsewhere(instance: dg.DagsterInstance) -> str | None:
    """The id of a run of the job in progress that `make run` did not start (the UI's)."""
    for run in instance.get_runs(filters=dg.RunsFilter(job_name=JOB, statuses=IN_PROGRESS)):
        if run.tags.get(LAUNCHED_BY_TAG) != "make-run":
            return run.run_id
    return None


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


def failed_checks(result: dg.ExecuteInProcessResult) -> list:
    """The evaluations of asset checks (pandera contracts, dbt tests) that did not pass."""
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]


def problems(result: dg.ExecuteInProcessResult) -> list[str]:
    """One line per reason a run failed: blocking checks, dbt tests, then other step errors."""
    lines = []
    for check in failed_checks(result):
        if check.severity != dg.AssetCheckSeverity.ERROR:
            continue
        asset = check.asset_key.to_user_string()
        if check.asset_key.path[0] == "raw":
            lines.append(
                f"blocking check {check.check_name} failed on {asset}, so dbt did not run: see "
                "its failure cases in `make ui` and raw.figures_rejected of the failed build; "
                "`make check-source SOURCE=raw/<id>` lists every problem of a source"
            )
        else:
            lines.append(
                f"dbt test {check.check_name} failed on {asset}: correct raw/ (or the model); "
                "the failing rows are in the check's metadata in `make ui`"
            )
    explained_by_checks = bool(lines)
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = event.event_specific_data.error
        text = error.to_string() if error else (event.message or "")
        if explained_by_checks and (
            "DagsterDbtCliRuntimeError" in text or "blocking asset check" in text.lower()
        ):
            continue  # the failed checks above are the reason
        lines.append(f"{event.step_key}: {explain(text, root_cause(error) if error else None)}")
    return lines or ["the run failed: see the log"]


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[None]:
    """Send everything the run prints to the log, the processes it starts included.

    Dagster's and dbt's own output (stack traces too, and those of Dagster's helper processes
    on Ctrl-C) goes to the log, not the terminal: the user reads the one-line problems, and the
    log when they need more. File descriptors 1 and 2 are redirected, not just sys.stdout.
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


def lock_target(warehouse: Path) -> Path:
    """The path the run lock sits beside: the file, or data/<name> for a MotherDuck database."""
    if is_motherduck(warehouse):
        return PROJECT_ROOT / "data" / str(warehouse).replace(":", "_")
    return warehouse


def execute(instance: dg.DagsterInstance, warehouse: Path, log_path: Path, inputs: str | None):
    """Build into a staged copy of the warehouse; publish it if the run succeeded."""
    from orchestration.definitions import defs

    def job():
        with output_to(log_path):
            return defs.resolve_job_def(JOB).execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config=QUIET,
                tags={LAUNCHED_BY_TAG: "make-run", WAREHOUSE_TAG: str(warehouse)},
            )

    if is_motherduck(warehouse):  # no file to stage: MotherDuck builds in place
        return job(), None
    # The BI copies go beside the real warehouse, not beside the staged one.
    os.environ.setdefault(PUBLISH_DIR_ENV, str(publish_dir()))
    staged = stage(warehouse)
    os.environ[WAREHOUSE_ENV] = str(staged)  # the resources and dbt's profile read it at run time
    try:
        result = job()
    finally:
        os.environ[WAREHOUSE_ENV] = str(warehouse)
    if result.success:
        if inputs:
            fingerprint.record(staged, inputs, result.run_id)
        publish(staged, warehouse)
        return result, None
    return result, keep_failed(staged, warehouse)


def fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def setup_problem(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"
    return explain(text, text.splitlines()[0])


def current_build(warehouse: Path) -> tuple[str | None, str | None]:
    """(hash of this run's inputs, a line to print when the warehouse already holds them)."""
    if is_motherduck(warehouse) or input_problem(raw_dir()):
        return None, None
    inputs = fingerprint.inputs_hash(raw_dir())
    last = fingerprint.last_build(warehouse)
    published = (publish_dir() / PUBLISHED_DATABASE).is_file()
    if os.environ.get(fingerprint.FORCE_ENV) or not last or last[0] != inputs or not published:
        return inputs, None
    return inputs, (
        f"Nothing changed since the build of {last[1]:%Y-%m-%d %H:%M:%S} UTC (raw/, the dbt "
        f"project and the code are as they were): {display(warehouse)} is current. "
        "`make run FORCE=1` rebuilds it anyway."
    )


def main() -> int:
    started = time.perf_counter()
    warehouse = warehouse_path()
    try:
        inputs, current = current_build(warehouse)
    except (OSError, ValueError) as error:  # never a reason not to build
        print(f"Note: could not compare with the last build ({error}); building.")
        inputs, current = None, None
    if current:
        print(current)
        return 0
    try:
        from orchestration.definitions import defs  # noqa: F401  (a broken set-up fails here)
    except Exception as error:  # a broken set-up: one line, then out
        return fail(setup_problem(error))
    if shutil.which(dbt_executable()) is None:
        return fail(NO_DBT)
    if problem := input_problem(raw_dir()):
        return fail(problem)
    try:
        # The lock comes before the Dagster instance is opened: two processes that create a new
        # instance's SQLite storage at once can leave it unusable (dagster-io/dagster#27390).
        with exclusive_run(lock_target(warehouse)):
            try:
                instance = dg.DagsterInstance.get()
            except Exception as error:
                return fail(setup_problem(error))
            log_path = Path(instance.root_directory) / "logs" / "last_run.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            for run_id in recover(instance, warehouse):
                print(f"Note: run {run_id} was interrupted; marked failed, its build dropped.")
            if other := run_elsewhere(instance):
                return fail(
                    f"run {other} (from the Dagster UI or its schedule) is in progress on this "
                    "instance: wait for it to finish, or cancel it in `make ui`, then run again",
                    3,
                )
            print(
                "Running the warehouse job: load raw/, validate, dbt build "
                f"(log: {display(log_path)})"
            )
            result, failed_build = execute(instance, warehouse, log_path, inputs)
    except RunInProgress as holder:
        return fail(
            f"another run of {display(warehouse)} is in progress ({holder}): wait for it to "
            "finish, then run again",
            3,
        )
    except KeyboardInterrupt:
        return fail(f"the run was interrupted: {RERUN}", 130)
    except (OSError, duckdb.Error, RuntimeError) as error:
        return fail(setup_problem(error))
    seconds = time.perf_counter() - started
    if not result.success:
        for line in problems(result):
            print(f"error: {line}", file=sys.stderr)
        print(
            f"The run failed after {seconds:.1f} s (run {result.run_id}); {RERUN} once fixed. "
            f"Failed build: {display(failed_build) if failed_build else 'none'}. "
            f"Details: {display(log_path)}, or `make ui`, then Runs.",
            file=sys.stderr,
        )
        return 1
    print(f"Warehouse built in {seconds:.1f} s: {display(warehouse)}")
    for line in summarize(warehouse):
        print(line)
    for check in failed_checks(result):
        print(f"Warning: check {check.check_name} on {check.asset_key.to_user_string()} failed")
    print("\nA first query:")
    print(f'  make sql Q="{FIRST_QUERY}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
