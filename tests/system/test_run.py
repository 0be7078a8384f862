"""`make run` as a terminal user meets it: one `error:` line per problem, the no-change skip.

Each test runs `python -m orchestration.run` (what `make run` runs) as a real process against
temporary paths and makes one thing go wrong for real: a missing raw/ folder, a lock held by
another process, a dbt test that fails, a full or read-only disk, no dbt, no manifest, Ctrl-C.
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
import pytest

from orchestration.locking import held, lock_path
from orchestration.paths import PROJECT_ROOT
from orchestration.snapshots import current_build
from tests.conftest import copy_raw, copy_state, prepared_target
from tests.helpers import (
    HANG_GUARD,
    cmdline,
    descendants,
    error_line,
    make_run,
    published_build_ids,
    run_env,
)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return run_env(tmp_path, copy_raw(tmp_path / "raw"))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A folder where `make run` built the seed: its raw/, warehouse, published build and Dagster
    instance, copied by each test that starts after a first build."""
    root = tmp_path_factory.mktemp("seeded")
    first = make_run(run_env(root, copy_raw(root / "raw")))
    assert first.returncode == 0, first.stderr
    return root


@pytest.fixture
def built_env(seeded, tmp_path) -> dict[str, str]:
    """`make run`'s environment on a private copy of `seeded`: the next run is a second one."""
    return run_env(copy_state(seeded, tmp_path), tmp_path / "raw")


def test_a_missing_raw_folder(tmp_path):
    result = make_run(run_env(tmp_path, tmp_path / "nowhere"))
    line = error_line(result)
    assert "nowhere does not exist" in line and "set RAW_DIR" in line
    assert result.returncode == 2
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_an_empty_raw_folder_never_publishes_an_empty_build(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "_draft").mkdir()  # drafts do not count as sources
    line = error_line(make_run(run_env(tmp_path, tmp_path / "raw")))
    assert "holds no source folder" in line and "raw/<source_id>/" in line


def test_a_second_run_while_one_holds_the_lock(env):
    warehouse = env["WAREHOUSE_PATH"]
    with held(lock_path(warehouse), "run 1234abcd"):  # this test process plays the run
        result = make_run(env)
    line = error_line(result)
    assert result.returncode == 3
    assert f"another run of {warehouse} is in progress (run 1234abcd, pid {os.getpid()}" in line
    assert "wait for it to finish" in line


def test_a_failing_dbt_test_is_named_and_readers_keep_the_last_build(built_env):
    env = built_env
    publish = Path(env["WAREHOUSE_PATH"]).parent / "published"
    before = current_build(publish).build_id
    raw = Path(env["RAW_DIR"])
    figures = next(raw.glob("*/figures.csv"))
    text = figures.read_text(encoding="utf-8")
    # Domestic games 149.7 bn instead of 139.7 bn, quotes too: the parts no longer add up.
    text = text.replace("139700000000", "149700000000").replace("1397 亿元", "1497 亿元")
    figures.write_text(text.replace("139.7 billion", "149.7 billion"), encoding="utf-8")
    source = figures.parent / "source.yaml"  # the altered quotes are not in the article's text
    source.write_text(source.read_text(encoding="utf-8").replace("text:", "# text:"), "utf-8")

    result = make_run(env)

    assert result.returncode == 1
    for trace in ("Traceback", "Stack Trace", 'File "'):
        assert trace not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert any(
        line.startswith("error: dbt test assert_stated_parts_sum_to_stated_totals failed on ")
        for line in errors
    ), result.stderr
    assert "readers still see the previous build" in result.stderr
    assert published_build_ids(publish) == {before}


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system of its own (tmpfs), for a warehouse that cannot fit."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk(tmp_path, small_disk):
    warehouse = small_disk / "warehouse.duckdb"
    env = run_env(tmp_path, copy_raw(tmp_path / "raw"), warehouse)
    line = error_line(make_run(env))
    assert f"the disk of {warehouse} is full: free space" in line


def test_a_read_only_folder(tmp_path, small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    env = run_env(tmp_path, copy_raw(tmp_path / "raw"), small_disk / "warehouse.duckdb")
    line = error_line(make_run(env))
    assert "is read-only: set WAREHOUSE_PATH to a writable place" in line


def test_a_run_out_of_memory_leaves_the_working_database_closed(tmp_path):
    """A step that fails holds its DuckDB connection in its error until `make run`'s process
    ends: the process must still close it, as Python's last collection at exit does
    (orchestration/run.py keeps that collection), so no WAL or spill file stays beside the
    working database."""
    env = run_env(tmp_path, copy_raw(tmp_path / "raw"), DUCKDB_MEMORY_LIMIT="4MB")
    result = make_run(env)
    assert result.returncode == 1, result.stdout + result.stderr
    line = error_line(result)
    assert "Out of Memory" in line
    assert "set DUCKDB_MEMORY_LIMIT higher" in line  # what to do about it
    warehouse = Path(env["WAREHOUSE_PATH"])
    assert warehouse.is_file()  # the load began: there was something to close
    assert not warehouse.with_name(warehouse.name + ".wal").exists()
    spilled = warehouse.with_name(warehouse.name + ".tmp")
    assert not spilled.exists() or not any(spilled.iterdir())


def test_a_read_only_published_folder_is_named(env, tmp_path):
    """Only the publish folder is read-only: the line names it, not a file of the venv. A
    read-only file system where one can be mounted (root writes in a folder whatever its mode),
    else a folder without write permission."""
    publish = tmp_path / "published"
    publish.mkdir()
    try:
        mounted = not subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(publish)],
            capture_output=True,
        ).returncode
    except OSError:  # no mount command
        mounted = False
    if not mounted:
        publish.chmod(0o555)
    try:
        result = make_run({**env, "PUBLISH_DIR": str(publish)})
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(publish)], check=True)
        publish.chmod(0o755)
    if os.geteuid() == 0 and result.returncode == 0:
        pytest.skip("root writes in a read-only folder and no file system could be mounted")
    line = error_line(result)
    assert f"cannot write the published snapshot in {publish}" in line
    assert ".venv" not in line


def test_no_dbt(tmp_path, env):
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
    env = {**env, "PATH": path}
    env.pop("GIANTS_DBT_EXECUTABLE", None)
    line = error_line(make_run(env, python=str(fake / "bin" / "python")))
    assert line.startswith("error: dbt is not installed beside this Python nor on PATH")


def test_no_manifest(tmp_path, env):
    """A copy of the project whose dbt manifest was never prepared."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "orchestration", project / "orchestration")
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        project / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    line = error_line(make_run(env, cwd=project))
    assert "the dbt manifest (dbt_project/target/manifest.json) is missing: `make run`" in line


def test_bin_run_from_a_terminal_that_never_ran_make(tmp_path):
    """`bin/run` in a shell with none of the Makefile's variables (no DAGSTER_HOME, no venv on
    PATH): it sets up, builds into the project's own folders, and passes the run's exit code on.
    A copy of the project, sharing this one's environment, so that its folders are its own."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy2(PROJECT_ROOT / name, project / name)
    for name in ("bin", "orchestration", "dbt_project"):
        shutil.copytree(
            PROJECT_ROOT / name,
            project / name,
            ignore=shutil.ignore_patterns("target", "logs"),
        )
    # the parse and its stamp, so that `make` finds it prepared (else it prepares the copy's)
    prepared_target(project / "dbt_project" / "target", PROJECT_ROOT / "dbt_project" / "target")
    for name in (".venv", ".tools"):
        (project / name).symlink_to(PROJECT_ROOT / name)
    copy_raw(project / "raw")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p)
    terminal = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DAGSTER", "DBT_", "WAREHOUSE", "RAW_", "PUBLISH", "MAKE", "MFLAGS"))
    }
    terminal["PATH"] = path
    command = [str(project / "bin" / "run")]

    first = subprocess.run(
        command, env=terminal, capture_output=True, text=True, timeout=HANG_GUARD
    )

    assert first.returncode == 0, first.stdout + first.stderr
    assert "Built and published" in first.stdout
    assert (project / "data" / "published" / "giants.duckdb").exists()
    assert (project / ".dagster_home" / "logs" / "last_run.log").exists()
    again = subprocess.run(
        command, env=terminal, capture_output=True, text=True, timeout=HANG_GUARD
    )
    assert again.returncode == 0 and again.stdout.startswith("Nothing changed since build")
    # the module itself, outside make and bin/run, says what is missing
    direct = make_run({**terminal, "FORCE": "1"}, cwd=project)
    assert direct.returncode == 2
    assert error_line(direct).startswith("error: DAGSTER_HOME is not set: `make run` and `bin/run`")


def test_ctrl_c_mid_run(built_env):
    """Ctrl-C in a terminal: SIGINT to the run and every process it started (dbt included)."""
    env = built_env
    publish = Path(env["WAREHOUSE_PATH"]).parent / "published"
    before = current_build(publish).build_id
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.run"],
        cwd=PROJECT_ROOT,
        env={**env, "FORCE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        guard = time.monotonic() + HANG_GUARD
        # dbt's command, not the dbt server that a run starts ahead of it (dbt_server.py)
        while not any("dbt build" in cmdline(pid) for pid in descendants(process.pid)):
            assert process.poll() is None and time.monotonic() < guard, "dbt never started"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=HANG_GUARD)
    finally:
        if process.poll() is None:
            process.kill()
    line = error_line(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    assert "the run was interrupted: readers still see the previous build" in line
    assert published_build_ids(publish) == {before}


def test_nothing_changed_is_judged_against_the_published_build_whoever_made_it(built_env):
    """`make run` skips only when the published build was made from raw/ and the code as they
    are now, whether `make run` (here the first build's) or a run from the UI made it; FORCE=1
    runs anyway (test_a_run_parses_nothing_once_prepared)."""
    env = {k: v for k, v in built_env.items() if k != "FORCE"}
    publish = Path(env["WAREHOUSE_PATH"]).parent / "published"
    first = current_build(publish)
    again = make_run(env)
    assert again.returncode == 0
    assert again.stdout.startswith(f"Nothing changed since build {first.build_id}")
    assert current_build(publish).build_id == first.build_id

    # a run from the UI (the same job, in another process) builds a changed raw/
    figures = next(Path(env["RAW_DIR"]).glob("*/figures.csv"))
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    from orchestration.definitions import defs

    with pytest.MonkeyPatch.context() as patch:
        for key in ("WAREHOUSE_PATH", "RAW_DIR", "DAGSTER_HOME"):
            patch.setenv(key, env[key])
        with dg.DagsterInstance.get() as instance:
            result = defs.resolve_job_def("warehouse").execute_in_process(instance=instance)
    assert result.success
    second = current_build(publish)
    assert second.build_id != first.build_id
    after_ui = make_run(env)
    assert after_ui.stdout.startswith(f"Nothing changed since build {second.build_id}")

    # raw/ changes and no run has built it: make run builds, whoever built last
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = make_run(env)
    assert changed.returncode == 0 and "Running the warehouse job" in changed.stdout
    assert current_build(publish).build_id not in (first.build_id, second.build_id)


def test_a_run_parses_nothing_once_prepared(env, tmp_path):
    """`make` prepares dbt's parse: no run parses the project again, even into a warehouse in
    another folder than the one `make` prepared for (dbt opens it by its name alone:
    orchestration/paths.py, dbt_process)."""
    target = tmp_path / "target"
    env = {**env, "DBT_TARGET_PATH": str(target), "FORCE": "1"}
    elsewhere = tmp_path / "elsewhere" / "warehouse.duckdb"
    subprocess.run(
        [sys.executable, "-m", "orchestration.prepare"],
        env={**env, "WAREHOUSE_PATH": str(elsewhere)},
        cwd=PROJECT_ROOT,
        check=True,
    )
    assert not elsewhere.parent.exists()  # the parse opens no database
    for _ in range(2):
        result = make_run(env)
        assert result.returncode == 0, result.stderr
        # the second run too: FORCE=1 runs when nothing changed since the build
        assert "Running the warehouse job" in result.stdout
        # dbt ran in the server the run started ahead of its step (orchestration/dbt_server.py)
        run_log = Path(env["DAGSTER_HOME"]) / "logs" / "last_run.log"
        assert "(dbt ran in the dbt server started with the run; exit code 0)" in (
            run_log.read_text(encoding="utf-8")
        )
    # dagster-dbt logs the runs' dbt into their target folder (dbt.log and its rotated parts)
    log = "".join(p.read_text(errors="replace") for p in target.glob("dbt.log*"))
    assert log.count('"invocation_command": "dbt build') == 2
    assert "Unable to do partial parsing" not in log
    assert log.count("PartialParsingEnabled") == 2  # one per run
