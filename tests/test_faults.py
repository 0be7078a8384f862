"""`make run` under faults: SIGKILL mid-load and mid-dbt, and two runs started at once.

Every run here is a real `python -m orchestration.run` process with its own warehouse, raw/
copy and Dagster instance under tmp_path; kills are real SIGKILLs, found at the right moment by
reading the run's events from the Dagster instance as the run writes them. The "old" data is
the committed raw/ (one source); the "new" adds a synthetic corpus, so the two differ in every
raw and mart table and a mix of them would show.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from benchmarks.generate import generate
from orchestration.paths import PROJECT_ROOT, RAW_DIR_ENV, WAREHOUSE_ENV
from orchestration.run import process_running
from tests.conftest import copy_raw

SYNTHETIC_FIGURES = 20_000  # enough for the load step to take seconds
POLL = 0.02
HANG_GUARD = 300  # seconds: only stops a broken test from hanging the suite

LOAD_STEP = "raw_tables"
DBT_STEP = "warehouse_dbt_models"


def run_env(root: Path, raw: Path, new_instance: bool = False) -> dict[str, str]:
    """The environment `make run` gives the run, pointed at temporary paths under `root`.

    The Dagster instance's storage is created here, before any run, unless `new_instance`:
    this test process reads it while a run writes it, and two processes that create a new
    instance's SQLite storage at once can break it (dagster-io/dagster#27390).
    """
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    if not new_instance:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            instance.get_runs(limit=1)
            instance.all_instigator_state()
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ["PATH"],
        "DAGSTER_HOME": str(home),
        WAREHOUSE_ENV: str(root / "data" / "warehouse.duckdb"),
        RAW_DIR_ENV: str(raw),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def start(env: dict[str, str], name: str) -> subprocess.Popen:
    """`make run` as a child process; its output goes to files beside the instance."""
    home = Path(env["DAGSTER_HOME"])
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=(home / f"{name}.out").open("w"),
        stderr=(home / f"{name}.err").open("w"),
    )


def output(env: dict[str, str], name: str) -> str:
    home = Path(env["DAGSTER_HOME"])
    return (home / f"{name}.out").read_text() + (home / f"{name}.err").read_text()


def run(env: dict[str, str], name: str) -> str:
    """One whole run that must succeed; its output."""
    process = start(env, name)
    assert process.wait(timeout=HANG_GUARD) == 0, output(env, name)
    return output(env, name)


def tables(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'marts') order by 1"
        ).fetchall()
    return [name for (name,) in rows]


def counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {
            t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables(warehouse)
        }


def fingerprint(warehouse: Path) -> dict[str, str]:
    """Every raw and mart table's whole content, as one hash each: equal means the same data."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {
            t: conn.execute(
                f"select count(*) || ':' || coalesce(md5(string_agg(cast(t as varchar), "
                f"chr(10) order by cast(t as varchar))), '') from {t} as t"
            ).fetchone()[0]
            for t in tables(warehouse)
        }


def events(env: dict[str, str], instance: dg.DagsterInstance | None = None) -> list[tuple]:
    """(event type, step) of the newest started run in the instance, as far as it has got.

    Only a started run: its event log exists by then, so this reader never creates it.
    """
    with contextlib.ExitStack() as stack:
        if instance is None:
            instance = stack.enter_context(dg.DagsterInstance.from_config(env["DAGSTER_HOME"]))
        started = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])
        runs = instance.get_runs(filters=started, limit=1)
        if not runs:
            return []
        return [
            (record.dagster_event.event_type_value, record.step_key)
            for record in instance.all_logs(runs[0].run_id)
            if record.dagster_event is not None
        ]


def run_statuses(env: dict[str, str]) -> list[dg.DagsterRunStatus]:
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        return [run.status for run in instance.get_runs()]


def wait_for(process: subprocess.Popen, env: dict[str, str], condition) -> list:
    """Poll the run's events until `condition(events)` holds; the run must still be alive."""
    guard = time.monotonic() + HANG_GUARD
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        while time.monotonic() < guard:
            assert process.poll() is None, f"the run ended first:\n{output(env, 'killed')}"
            seen = events(env, instance)
            if condition(seen):
                return seen
            time.sleep(POLL)
    raise AssertionError("the run never reached the point to kill it at")


def children(pid: int) -> list[int]:
    """Direct child processes of `pid`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if parent == pid:
            found.append(int(stat.parent.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except FileNotFoundError:
        return ""


def open_files(pid: int) -> set[str]:
    try:
        return {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
    except (FileNotFoundError, PermissionError):
        return set()


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    """The old raw/ (the committed source) and the new one (plus a synthetic corpus)."""
    root = tmp_path_factory.mktemp("corpora")
    old = copy_raw(root / "old")
    new = copy_raw(root / "new")
    generate(SYNTHETIC_FIGURES, new)
    return {"old": old, "new": new}


@pytest.fixture(scope="module")
def old_build(tmp_path_factory, corpora) -> Path:
    """A warehouse built from the old data by `make run`, to copy into each test."""
    root = tmp_path_factory.mktemp("old")
    env = run_env(root, corpora["old"])
    run(env, "old")
    return Path(env[WAREHOUSE_ENV])


@pytest.fixture(scope="module")
def clean_new_counts(tmp_path_factory, corpora) -> dict[str, int]:
    """Row counts of a clean build of the new data, into a new warehouse."""
    root = tmp_path_factory.mktemp("clean")
    env = run_env(root, corpora["new"])
    run(env, "clean")
    return counts(Path(env[WAREHOUSE_ENV]))


def previous_warehouse(
    tmp_path: Path, old_build: Path, corpora, new_instance: bool = False
) -> dict[str, str]:
    """A copy of the old warehouse, and the environment of a run that loads the new data."""
    env = run_env(tmp_path, corpora["new"], new_instance)
    warehouse = Path(env[WAREHOUSE_ENV])
    warehouse.parent.mkdir(parents=True)
    shutil.copyfile(old_build, warehouse)
    return env


def assert_recovers(env: dict[str, str], clean_new_counts: dict[str, int]) -> None:
    """The next run succeeds with no manual step and builds what a clean run builds."""
    started = time.perf_counter()
    out = run(env, "recovery")
    print(f"recovery run: {time.perf_counter() - started:.1f} s")
    assert "was interrupted; marked failed" in out
    warehouse = Path(env[WAREHOUSE_ENV])
    assert counts(warehouse) == clean_new_counts
    assert not list(warehouse.parent.glob(".*.build*"))
    assert dg.DagsterRunStatus.STARTED not in run_statuses(env)


def kill(process: subprocess.Popen) -> None:
    started = time.perf_counter()
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=HANG_GUARD) == -signal.SIGKILL
    print(f"killed in {time.perf_counter() - started:.3f} s")


def test_a_run_killed_while_loading_leaves_the_previous_warehouse(
    tmp_path, old_build, corpora, clean_new_counts
):
    env = previous_warehouse(tmp_path, old_build, corpora)
    warehouse = Path(env[WAREHOUSE_ENV])
    before = fingerprint(warehouse)
    process = start(env, "killed")
    wait_for(process, env, lambda seen: ("STEP_START", LOAD_STEP) in seen)
    kill(process)
    seen = events(env)  # the killed run: still marked started, as nothing ended it
    assert seen and ("STEP_SUCCESS", LOAD_STEP) not in seen, "killed too late: the load had ended"

    assert fingerprint(warehouse) == before  # opens, and every table is the previous build's
    assert counts(warehouse)["raw.figures"] == clean_new_counts["raw.figures"] - SYNTHETIC_FIGURES
    assert_recovers(env, clean_new_counts)


def test_a_run_killed_during_dbt_leaves_the_previous_warehouse(
    tmp_path, old_build, corpora, clean_new_counts
):
    env = previous_warehouse(tmp_path, old_build, corpora)
    warehouse = Path(env[WAREHOUSE_ENV])
    before = fingerprint(warehouse)
    process = start(env, "killed")
    # dbt has built a model: in the run's copy, the new raw tables are committed and the
    # marts not all rebuilt yet.
    wait_for(process, env, lambda seen: ("ASSET_MATERIALIZATION", DBT_STEP) in seen)
    dbt = [pid for pid in children(process.pid) if "dbt" in cmdline(pid)]
    assert dbt, "no dbt process under the run"
    kill(process)
    seen = events(env)  # the killed run: still marked started, as nothing ended it
    assert seen and ("STEP_SUCCESS", DBT_STEP) not in seen, "killed too late: dbt had ended"

    # Whatever the orphaned dbt does next, it never has the published warehouse open.
    assert all(str(warehouse) not in open_files(pid) for pid in dbt)
    assert fingerprint(warehouse) == before
    # A dbt that outlives the run ends by itself: its output pipe has no reader any more.
    killed, guard = time.monotonic(), time.monotonic() + HANG_GUARD
    while any(process_running(pid) for pid in dbt) and time.monotonic() < guard:
        time.sleep(POLL)
    assert not any(process_running(pid) for pid in dbt), "dbt outlived the killed run"
    print(f"the orphaned dbt ended {time.monotonic() - killed:.2f} s after the kill")
    assert_recovers(env, clean_new_counts)


READER = """
import duckdb, sys
conn = duckdb.connect(sys.argv[1], read_only=True)
for _ in sys.stdin:
    print(conn.execute("select count(*) from marts.figures").fetchone()[0], flush=True)
"""


def test_two_runs_started_at_once_never_both_write(tmp_path, old_build, corpora, clean_new_counts):
    # A new Dagster instance too: the two runs are the first to open it.
    env = previous_warehouse(tmp_path, old_build, corpora, new_instance=True)
    warehouse = Path(env[WAREHOUSE_ENV])
    old_figures = counts(warehouse)["marts.figures"]
    # A reader (a DuckDB shell, a notebook) holds the warehouse open through both runs.
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def reader_sees() -> int:
        reader.stdin.write("count\n")
        reader.stdin.flush()
        return int(reader.stdout.readline())

    assert reader_sees() == old_figures
    first, second = start(env, "first"), start(env, "second")
    codes = (first.wait(timeout=HANG_GUARD), second.wait(timeout=HANG_GUARD))
    print(f"exit codes of the two runs: {codes}")
    assert reader_sees() == old_figures  # its snapshot, whole, until it reconnects
    reader.communicate("")
    outputs = (output(env, "first"), output(env, "second"))
    assert "Traceback" not in "".join(outputs)
    if codes != (0, 0):  # the usual case: one ran while the other refused at once
        assert sorted(codes) == [0, 3], outputs
        refused = outputs[codes.index(3)].strip()
        assert refused.startswith("error: another run of ") and "\n" not in refused
        assert "is in progress (pid " in refused
    # Both in turn is the other correct outcome; never a mix, never a broken file.
    assert counts(warehouse) == clean_new_counts
    assert dg.DagsterRunStatus.STARTED not in run_statuses(env)
