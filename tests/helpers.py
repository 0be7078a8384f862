"""Helpers the tests share: environments for real runs, processes, the published snapshot."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

import dagster as dg
import duckdb

from orchestration.paths import (
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    RAW_DIR_ENV,
    WAREHOUSE_ENV,
    dbt_process,
)
from tests.conftest import prepared_target

BIN = Path(sys.executable).parent
HANG_GUARD = 300  # seconds: only stops a broken test from hanging the suite
INSTANCE_SETTINGS = PROJECT_ROOT / "orchestration" / "dagster.yaml"


@contextmanager
def instance_at(home: Path | str) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance in `home`, as a process started with DAGSTER_HOME=home sees it
    (dagster.yaml places the event log under $DAGSTER_HOME)."""
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield instance
    finally:
        if previous is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = previous


def copy_written(home: Path | str, run_id: str) -> str:
    """How the publish step of run `run_id` wrote the published DuckDB copy (`copy_written`)."""
    with instance_at(home) as instance:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
    materializations = [r.event_log_entry.asset_materialization for r in records]
    [written] = [
        m.metadata["copy_written"].value
        for m in materializations
        if m.asset_key.path == ["published", "marts"]
    ]
    return written


def run_env(root: Path, raw: Path, warehouse: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment `make run` and `make ui` give a run, pointed at folders under `root`.

    The Dagster instance's storage is created here, before any process uses it: two processes
    that create a new instance's SQLite storage at once can break it (dagster-io/dagster#27390).
    """
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(INSTANCE_SETTINGS, home / "dagster.yaml")
    with instance_at(home) as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()
    return {
        **os.environ,
        "PATH": str(BIN) + os.pathsep + os.environ["PATH"],
        "DAGSTER_HOME": str(home),
        WAREHOUSE_ENV: str(warehouse or root / "data" / "warehouse.duckdb"),
        RAW_DIR_ENV: str(raw),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        **extra,
    }


def make_run(env: dict[str, str], cwd: Path = PROJECT_ROOT, python: str = sys.executable):
    """`make run` (what its recipe runs) as a real process: its completed result."""
    return subprocess.run(
        [python, "-m", "orchestration.run"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )


def start_make_run(env: dict[str, str], name: str, **popen) -> subprocess.Popen:
    """`make run` as a child process; its output goes to files beside the instance."""
    home = Path(env["DAGSTER_HOME"])
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=(home / f"{name}.out").open("w"),
        stderr=(home / f"{name}.err").open("w"),
        **popen,
    )


def output(env: dict[str, str], name: str) -> str:
    home = Path(env["DAGSTER_HOME"])
    return (home / f"{name}.out").read_text() + (home / f"{name}.err").read_text()


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line a failed run printed (and no traceback anywhere)."""
    assert result.returncode != 0, result.stdout
    for trace in ("Traceback", "Stack Trace", 'File "'):
        assert trace not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


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


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def source_part(source_id: str) -> str:
    """The Parquet part of a source's figures (orchestration/published_parquet.py), computed
    here on its own: the md5 of the id, modulo 64."""
    return f"part-{int(hashlib.md5(source_id.encode()).hexdigest()[:8], 16) % 64:02d}"


def published_build_ids(publish_dir: Path) -> set[str]:
    """The build id every file readers use carries: the copy's meta.build, the chart's SVG root,
    build.json, and each Parquet file's key-value metadata. One id means one build. A Parquet
    file kept from an earlier build (a hard link: orchestration/published_parquet.py) carries
    that build's id, as build.json lists it; any other id, or a file build.json does not list
    (or lists and is missing), is returned as a problem."""
    ids = set()
    with duckdb.connect(str(publish_dir / "giants.duckdb"), read_only=True) as conn:
        ids |= {row[0] for row in conn.execute("select build_id from meta.build").fetchall()}
    info = json.loads((publish_dir / "current" / "build.json").read_text())
    ids.add(info["build_id"])
    listed = {
        publish_dir / "parquet" / mart / entry["file"]: entry["build_id"]
        for mart, files in info.get("parquet", {}).items()
        for entry in files
    }
    parquet = sorted((publish_dir / "parquet").glob("*/*.parquet"))
    assert parquet, "no Parquet file published"
    ids |= {f"{path.name} not listed" for path in parquet if path not in listed}
    ids |= {f"{path.name} listed, missing" for path in listed if not path.is_file()}
    with duckdb.connect() as conn:
        for path in parquet:
            rows = conn.execute(
                "select value from parquet_kv_metadata(?) where key = 'build_id'", [str(path)]
            ).fetchall()
            found = {value.decode() for (value,) in rows} or {f"none in {path.name}"}
            if path in listed and found == {listed[path]} and listed[path] <= info["build_id"]:
                found = {info["build_id"]}
            ids |= found
    ids.add(svg_build_id((publish_dir / "segment_revenue.svg").read_text(encoding="utf-8")))
    return ids


def svg_build_id(svg: str) -> str:
    """The `data-build-id` of an SVG file's root element ("" if it has none)."""
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    return root.get("data-build-id", "")


def dbt(args: list[str], warehouse: Path, target: Path, **run) -> subprocess.CompletedProcess:
    """`dbt <args>` on `warehouse`, its artifacts in `target` (prepared_target), started as a
    run's dbt starts (orchestration/paths.py, dbt_process): its completed process."""
    folder, env = dbt_process(
        DBT_PROJECT_DIR,
        {**os.environ, WAREHOUSE_ENV: str(warehouse), "DBT_TARGET_PATH": str(target)},
    )
    prepared_target(target)
    return subprocess.run(
        [str(BIN / "dbt"), *args], cwd=folder, env=env, capture_output=True, check=False, **run
    )


def broken_build(
    built_warehouse: Path, tmp_path: Path, sql: str, select: str, full_refresh: bool = True
) -> tuple[Path, dict]:
    """Copy the warehouse, break it with `sql`, `dbt build --select` on it (by default with
    --full-refresh: rows edited in place are no new source version, which an incremental build
    passes over, docs/operations.md "Incremental builds"): (copy, results by test or model name)."""
    warehouse = tmp_path / "broken" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(built_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        # the loader's NOT NULL constraints on raw.figures would stop some of the faults
        conn.execute("create table raw.loose as select * from raw.figures")
        conn.execute("drop table raw.figures")
        conn.execute("alter table raw.loose rename to figures")
        conn.execute(sql)
    target = tmp_path / "target"
    refresh = ["--full-refresh"] if full_refresh else []
    dbt(["build", *refresh, "--select", select], warehouse, target)
    results = json.loads((target / "run_results.json").read_text())["results"]
    return warehouse, {r["unique_id"].split(".")[2]: r for r in results}


def failing_rows(warehouse: Path, result: dict) -> list[tuple]:
    """What a failing dbt test returns: its compiled query, run on the warehouse."""
    assert result["status"] == "fail", result
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(result["compiled_code"]).fetchall()
