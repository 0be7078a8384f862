"""`make run` in bad conditions: one `error:` line saying what is wrong and what to do.

Each test runs `python -m orchestration.run` as a real process against temporary paths and
makes one thing go wrong for real: a missing raw/ folder, a lock held by another process, a
reader holding the file, a dbt test that fails, a full or read-only disk, no dbt, no manifest.
"""

from __future__ import annotations

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

from orchestration import run
from orchestration.locking import exclusive_run
from orchestration.paths import PROJECT_ROOT, RAW_DIR_ENV, WAREHOUSE_ENV
from tests.conftest import copy_raw
from tests.test_faults import children, cmdline

HANG_GUARD = 300


def make_run(
    tmp_path: Path,
    raw: Path,
    warehouse: Path | None = None,
    python: str = sys.executable,
    cwd: Path = PROJECT_ROOT,
    path: str | None = None,
    start_only: bool = False,
):
    """`make run` as the Makefile starts it, with temporary paths: its result, or with
    `start_only` the arguments to start it with."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "PATH": path or str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        "DAGSTER_HOME": str(home),
        WAREHOUSE_ENV: str(warehouse or tmp_path / "data" / "warehouse.duckdb"),
        RAW_DIR_ENV: str(raw),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = {
        "args": [python, "-m", "orchestration.run"],
        "cwd": cwd,
        "env": env,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "text": True,
    }
    if start_only:
        return command
    return subprocess.run(**command, timeout=HANG_GUARD)


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line a failed run printed (and no traceback anywhere)."""
    assert result.returncode != 0, result.stdout
    for trace in ("Traceback", "Stack Trace", 'File "'):
        assert trace not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_a_missing_raw_folder(tmp_path):
    result = make_run(tmp_path, tmp_path / "nowhere")
    line = error_line(result)
    assert "nowhere does not exist" in line and "set RAW_DIR" in line
    assert result.returncode == 2
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_an_empty_raw_folder_never_empties_the_warehouse(tmp_path):
    (tmp_path / "raw").mkdir()
    line = error_line(make_run(tmp_path, tmp_path / "raw"))
    assert "holds no source folder" in line and "raw/<source_id>/" in line


def test_a_second_run_while_one_holds_the_lock(tmp_path):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    with exclusive_run(warehouse):  # this test process plays the run in progress
        result = make_run(tmp_path, PROJECT_ROOT / "raw", warehouse)
    line = error_line(result)
    assert result.returncode == 3
    assert f"another run of {warehouse} is in progress (pid {os.getpid()}, started " in line
    assert "wait for it to finish" in line


def test_a_reader_holding_a_warehouse_that_needs_recovery(tmp_path):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    # A writer killed mid-way leaves a WAL; a reader then holds the file while a run starts.
    writer = (
        "import duckdb, os, sys; c = duckdb.connect(sys.argv[1]); "
        "c.execute('create table t as select 1 as x'); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", writer, str(warehouse)], check=True)
    assert warehouse.with_name("warehouse.duckdb.wal").exists()
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print(c.execute('select count(*) from t').fetchone()[0], flush=True); sys.stdin.read()",
            str(warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1"  # the reader has the file open
        line = error_line(make_run(tmp_path, PROJECT_ROOT / "raw", warehouse))
    finally:
        reader.communicate("")
    assert f"the warehouse {warehouse} is open in another process (PID {reader.pid}" in line
    assert "close it and run again" in line


def test_a_failing_dbt_test_is_named_and_the_warehouse_is_kept(tmp_path):
    raw = copy_raw(tmp_path / "raw")
    figures = next(raw.glob("*/figures.csv"))
    text = figures.read_text(encoding="utf-8")
    # Domestic games 149.7 bn instead of 139.7 bn, quotes too: the parts no longer add up.
    text = text.replace("139700000000", "149700000000").replace("1397 亿元", "1497 亿元")
    figures.write_text(text.replace("139.7 billion", "149.7 billion"), encoding="utf-8")
    source = figures.parent / "source.yaml"  # the altered quotes are not in the article's text
    source.write_text(source.read_text(encoding="utf-8").replace("text:", "# text:"), "utf-8")
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    with duckdb.connect(str(warehouse)) as conn:  # stands for the previous build
        conn.execute("create table previous as select 42 as answer")
    before = warehouse.read_bytes()
    result = make_run(tmp_path, raw, warehouse)
    assert result.returncode == 1
    for trace in ("Traceback", "Stack Trace", 'File "'):
        assert trace not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert any(
        line.startswith("error: dbt test assert_stated_parts_sum_to_stated_totals failed on ")
        for line in errors
    ), result.stderr
    assert warehouse.read_bytes() == before  # a failed run leaves the warehouse alone
    failed = warehouse.parent / ".warehouse.duckdb.failed" / "warehouse.duckdb"
    assert str(failed) in result.stderr
    with duckdb.connect(str(failed), read_only=True) as conn:  # the failed build, to inspect
        assert conn.execute("select count(*) from raw.figures").fetchone()[0] > 100


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system of its own (tmpfs), for a warehouse that cannot fit."""
    mount = tmp_path / "disk"
    mount.mkdir()
    options = "size=3m"
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk(tmp_path, small_disk):
    warehouse = small_disk / "warehouse.duckdb"
    line = error_line(make_run(tmp_path, PROJECT_ROOT / "raw", warehouse))
    assert f"the disk of {warehouse} is full: free space" in line


def test_a_read_only_folder(tmp_path, small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    line = error_line(make_run(tmp_path, PROJECT_ROOT / "raw", small_disk / "warehouse.duckdb"))
    assert "is read-only: set WAREHOUSE_PATH to a writable place" in line


def test_no_dbt(tmp_path):
    """A Python environment with every package but no dbt beside it nor on PATH."""
    venv = Path(sys.prefix)
    fake = tmp_path / "venv"
    (fake / "bin").mkdir(parents=True)
    shutil.copy(venv / "pyvenv.cfg", fake / "pyvenv.cfg")
    (fake / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    (fake / "lib").symlink_to(venv / "lib")
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "dbt").exists()
    )
    result = make_run(
        tmp_path, PROJECT_ROOT / "raw", python=str(fake / "bin" / "python"), path=path
    )
    line = error_line(result)
    assert line.startswith("error: dbt is not installed beside this Python nor on PATH")


def test_no_manifest(tmp_path):
    """A copy of the project whose dbt manifest was never prepared."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "orchestration", project / "orchestration")
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        project / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    shutil.copy(PROJECT_ROOT / "dagster.yaml", project / "dagster.yaml")
    line = error_line(make_run(tmp_path, PROJECT_ROOT / "raw", cwd=project))
    assert "the dbt manifest (dbt_project/target/manifest.json) is missing: `make run`" in line


def test_a_failed_blocking_check_is_named_with_where_to_look():
    """The line for a blocking contract check, from a real run's events."""

    @dg.asset(key=["raw", "figures"])
    def figures():
        return 1

    @dg.asset_check(asset=figures, blocking=True)
    def figures_match_contract():
        return dg.AssetCheckResult(passed=False)

    @dg.asset(deps=[figures])
    def marts():
        return 1

    defs = dg.Definitions(
        assets=[figures, marts],
        asset_checks=[figures_match_contract],
        jobs=[dg.define_asset_job("all", selection=dg.AssetSelection.all())],
    )
    result = defs.resolve_job_def("all").execute_in_process(raise_on_error=False)
    assert not result.success
    (line,) = run.problems(result)
    assert line.startswith("blocking check figures_match_contract failed on raw/figures")
    assert "raw.figures_rejected" in line and "make check-source" in line


def test_known_problems_read_as_one_line():
    assert "(PID 4242)" in run.explain(
        'IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held in '
        "/usr/bin/python3 (PID 4242) by user root."
    )
    assert run.explain(
        "PermissionError: [Errno 13] Permission denied: '/srv/w.duckdb.lock'"
    ).startswith("permission denied on /srv/w.duckdb.lock: give this user access to it")
    assert "interrupted" in run.explain("dagster.DagsterExecutionInterruptedError")
    assert run.explain("first\nValueError: the last line\n") == "ValueError: the last line"


def test_ctrl_c_mid_run(tmp_path):
    """Ctrl-C in a terminal: SIGINT to the run and every process it started (dbt included)."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    command = make_run(tmp_path, PROJECT_ROOT / "raw", warehouse, start_only=True)
    process = subprocess.Popen(**command, start_new_session=True)
    try:
        guard = time.monotonic() + HANG_GUARD
        while not any("dbt" in cmdline(pid) for pid in children(process.pid)):
            assert process.poll() is None and time.monotonic() < guard, "dbt never started"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=HANG_GUARD)
    finally:
        if process.poll() is None:
            process.kill()
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    line = error_line(result)
    assert "the run was interrupted: the warehouse keeps its previous data" in line
    assert not warehouse.exists()


def test_a_process_left_writing_in_the_build_folder_is_stopped_before_it_is_reused(tmp_path):
    """The build folder is the same every run (dbt's partial parsing keys on the path): what a
    killed run left writing in it is stopped, and the new run gets a fresh copy."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create table kept as select 1 as x")
    stale = run.build_dir(warehouse) / warehouse.name
    stale.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         "c = duckdb.connect(sys.argv[1]); c.execute('create table stale as select 1')\n"
         "print('open', flush=True); time.sleep(600)", str(stale)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        assert run.holders(stale.parent) == [holder.pid]

        staged = run.stage(warehouse)

        assert holder.wait(timeout=HANG_GUARD) == -signal.SIGKILL
        assert staged == stale
        with duckdb.connect(str(staged), read_only=True) as conn:
            tables = conn.execute("select table_name from duckdb_tables()").fetchall()
        assert tables == [("kept",)]
        assert run.holders(stale.parent) == []
    finally:
        holder.kill()


def test_runs_parse_nothing_once_prepared(tmp_path):
    """`make` prepares dbt's parse for the build copy: no run parses the project again."""
    target = tmp_path / "target"
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    command = make_run(tmp_path, copy_raw(tmp_path / "raw"), warehouse, start_only=True)
    env = command["env"] = {**command["env"], "DBT_TARGET_PATH": str(target), "FORCE": "1"}
    subprocess.run(
        [sys.executable, "-m", "orchestration.prepare"], env=env, cwd=PROJECT_ROOT, check=True
    )

    def dbt_logs() -> list[str]:
        return [
            log.read_text(encoding="utf-8")
            for log in sorted(target.glob("warehouse_dbt_models-*/dbt.log"), key=os.path.getmtime)
        ]

    for _ in range(2):
        result = subprocess.run(**command, timeout=HANG_GUARD)
        assert result.returncode == 0, result.stderr
    logs = dbt_logs()
    assert len(logs) == 2
    for log in logs:
        assert "Unable to do partial parsing" not in log
        assert "Partial parsing enabled" in log
    caches = sorted(p.name for p in (target / "partial_parse").glob("*.msgpack"))
    assert len(caches) == 1  # one profile: the build copy's path


def test_old_dbt_run_folders_and_parses_are_pruned(tmp_path, monkeypatch):
    """Each run leaves a dbt folder (4-6 MB) and a parse per database: the newest 10 stay."""
    from orchestration import transformation

    target = tmp_path / "target"
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    monkeypatch.setenv(WAREHOUSE_ENV, str(tmp_path / "warehouse.duckdb"))
    for number in range(12):
        (target / f"{transformation.RUN_FOLDER_PREFIX}old{number:02d}").mkdir(parents=True)
        (target / "partial_parse").mkdir(exist_ok=True)
        (target / "partial_parse" / f"old{number:02d}.msgpack").write_bytes(b"old")
        for path in (target / f"{transformation.RUN_FOLDER_PREFIX}old{number:02d}",
                     target / "partial_parse" / f"old{number:02d}.msgpack"):  # fmt: skip
            os.utime(path, (1_000_000 + number, 1_000_000 + number))
    run_folder = target / f"{transformation.RUN_FOLDER_PREFIX}new"
    run_folder.mkdir()
    (run_folder / transformation.PARTIAL_PARSE).write_bytes(b"new parse")

    transformation.keep_parse(run_folder)

    assert transformation.parse_cache().read_bytes() == b"new parse"
    parses = sorted(p.name for p in (target / "partial_parse").glob("*.msgpack"))
    assert len(parses) == 10 and transformation.parse_cache().name in parses
    assert "old02.msgpack" not in parses and "old03.msgpack" in parses
    folders = sorted(p.name for p in target.glob(f"{transformation.RUN_FOLDER_PREFIX}*"))
    assert len(folders) == 10 and run_folder.name in folders
    assert f"{transformation.RUN_FOLDER_PREFIX}old02" not in folders
