"""raw/ is untrusted input: nothing from outside it is stored, and no folder takes a run down.

A full run of the warehouse job, in its own process as `make run` starts one, over raw/ with the
seed, a good source and one folder per way out of raw/: a text named by an absolute path, by
`..`, by a link, or as /proc/self/environ; figures.csv, exclusions.csv or source.yaml as a link;
the folder itself a link. Beside raw/ lies a file with a marker, and the run's process has an
environment variable with another; then every file the run wrote (the warehouse, the published
copy, the Dagster instance, dbt's output) is searched for both, and neither may be anywhere.

The search walks files and does not depend on their layout (tests/leaks.py); a marker planted in
raw/ (a source's id) must be found by the same search in each place, so that it cannot pass by
seeing nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.figures.provenance import TEXT_PATH_ENV
from orchestration.ingestion.assets import raw_tables
from orchestration.ingestion.coverage import TEXT_COVERAGE, text_coverage
from orchestration.locking import RunLock
from orchestration.paths import (
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    PUBLISH_DIR_ENV,
    RAW_DIR_ENV,
    WAREHOUSE_ENV,
    dbt_target_dir,
)
from tests.conftest import copy_raw, query
from tests.leaks import found_in_files
from tests.sources import FIXTURE, GOOD_CSV, make_source

# Short, so that a number's context in raw.text_coverage (15 characters each side) holds it.
FILE_MARKER = "fm5b9e2c"  # in a file beside raw/
ENV_MARKER = "em8f41d7"  # in the environment of the run's process
ENV_NAME = "GIANTS_TEST_SECRET"
CANARY = "canary3c6a"  # in raw/: a source id, so in every table, the copy and the run's events
OUTSIDE = "build-machine"
FIXTURE_YAML = (FIXTURE / "source.yaml").read_text(encoding="utf-8")

RUN = """
import sys
import dagster as dg
from orchestration.definitions import defs

instance = dg.DagsterInstance.local_temp(tempdir=sys.argv[1])
result = defs.resolve_job_def("warehouse").execute_in_process(
    instance=instance, raise_on_error=False
)
for event in result.all_events:
    if event.event_type_value == "STEP_FAILURE":
        print(event.message)
sys.exit(0 if result.success else 1)
"""


def source_yaml(source_id: str, *lines: str) -> str:
    text = FIXTURE_YAML.replace("synthetic-2025-01-01", source_id)
    if lines:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("text:"))
        text += "\n" + "\n".join(lines) + "\n"
    return text


def escaping_folders(raw: Path, outside: Path) -> list[str]:
    """One source folder per way out of raw/; each would be valid but for its escape."""
    outside.mkdir()
    secret = outside / "secret.txt"
    # As a text: numbers beside the marker, so coverage would store it in a number's context.
    secret.write_text(f"7 {FILE_MARKER} 9\n游戏收入 1000 亿元 {FILE_MARKER}\n", encoding="utf-8")
    # As figures.csv: a row that would be kept, whole, in raw.figures_rejected.record.
    (outside / "secret.csv").write_text(
        f"figure_id,company\n{FILE_MARKER}-1,tencent\n", encoding="utf-8"
    )
    folders = {
        "esc-text-absolute": source_yaml("esc-text-absolute", f"text: {secret}"),
        "esc-text-dotdot": source_yaml("esc-text-dotdot", f"text: ../../{OUTSIDE}/secret.txt"),
        "esc-text-proc": source_yaml("esc-text-proc", "text: /proc/self/environ"),
        "esc-text-link": source_yaml("esc-text-link", "text: linked.txt"),
        "esc-figures-link": source_yaml("esc-figures-link"),
        "esc-exclusions-link": source_yaml("esc-exclusions-link"),
        "esc-source-link": source_yaml("esc-source-link"),
        "esc-folder-link": source_yaml("esc-folder-link"),
        # and one whose optional exclusions.csv is broken: it must take down nothing else
        "broken-exclusions": source_yaml("broken-exclusions"),
    }
    for number, (name, yaml) in enumerate(folders.items()):
        make_source(raw, name, figures=GOOD_CSV.replace("syn-", f"esc{number}-"), yaml=yaml)
    (raw / "esc-text-link" / "linked.txt").symlink_to(secret)
    (raw / "esc-figures-link" / "figures.csv").unlink()
    (raw / "esc-figures-link" / "figures.csv").symlink_to(outside / "secret.csv")
    (raw / "esc-exclusions-link" / "exclusions.csv").symlink_to(secret)
    (outside / "source.yaml").write_text(
        source_yaml("esc-source-link", f"notes: {FILE_MARKER}"), encoding="utf-8"
    )
    (raw / "esc-source-link" / "source.yaml").unlink()
    (raw / "esc-source-link" / "source.yaml").symlink_to(outside / "source.yaml")
    moved = outside / "esc-folder-link"
    (raw / "esc-folder-link").rename(moved)
    (moved / "source.yaml").write_text(
        source_yaml("esc-folder-link", f"notes: {FILE_MARKER}"), encoding="utf-8"
    )
    (raw / "esc-folder-link").symlink_to(moved)
    (raw / "broken-exclusions" / "exclusions.csv").write_text("quote,reason\nx,y\n", "utf-8")
    return sorted(folders)


def run_in_own_process(tmp: Path, raw: Path, instance: Path) -> subprocess.CompletedProcess:
    """The warehouse job in a new process, whose environment holds the marker from the start
    (/proc/self/environ shows a process's environment as it was started)."""
    env = {
        **os.environ,
        ENV_NAME: f"{ENV_MARKER}-123",  # a number, as in a token: coverage would keep it
        WAREHOUSE_ENV: str(tmp / "warehouse.duckdb"),
        RAW_DIR_ENV: str(raw),
        "DAGSTER_HOME": str(instance),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
    }
    env.pop(PUBLISH_DIR_ENV, None)  # the copy goes beside the warehouse, under tmp
    env.pop(TEXT_PATH_ENV, None)
    return subprocess.run(
        [sys.executable, "-c", RUN, str(instance)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def written_since(folder: Path, started: float, into: Path) -> None:
    """Copy the files of a shared folder (dbt's output) that a run wrote, to search them."""
    for path in folder.rglob("*"):
        if path.is_file() and path.stat().st_mtime >= started:
            target = into / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


@pytest.mark.integration
def test_nothing_from_outside_raw_is_stored_anywhere(tmp_path):
    raw, outside = copy_raw(tmp_path / "raw"), tmp_path / OUTSIDE
    instance = tmp_path / "dagster_home"
    instance.mkdir()
    escapes = escaping_folders(raw, outside)
    make_source(raw, f"{CANARY}-2025-01-01", figures=GOOD_CSV.replace("syn-", "cnry-"))
    started = time.time() - 1

    run = run_in_own_process(tmp_path, raw, instance)
    assert run.returncode == 0, run.stdout + run.stderr

    # every escaping folder is rejected whole, the good ones load and the marts are built
    warehouse = tmp_path / "warehouse.duckdb"
    sources = {s for (s,) in query(warehouse, "select source_id from raw.sources")}
    assert sources == {"hedgehog-2025-03-27", f"{CANARY}-2025-01-01"}
    rejected = dict(
        query(
            warehouse,
            "select source_id, count(*) from raw.figures_rejected group by all order by all",
        )
    )
    assert sorted(rejected) == escapes
    assert query(warehouse, "select count(*) from marts.figures")[0][0] == 102 + 3
    # dbt's files are shared by every run of the project: search what this run wrote
    written_since(dbt_target_dir(), started, tmp_path / "dbt-target")
    written_since(DBT_PROJECT_DIR / "logs", started, tmp_path / "dbt-logs")

    skip = [raw, outside]
    assert found_in_files(tmp_path, [FILE_MARKER, ENV_MARKER], skip=skip) == []
    # the same search finds raw/'s canary in the warehouse, the copy and the instance
    seen = found_in_files(tmp_path, [CANARY], skip=skip)
    for place in (warehouse, tmp_path / "published", instance):
        assert any(hit.startswith(str(place)) for hit in seen), (place, seen)


def test_a_broken_exclusions_file_skips_only_that_source_coverage(tmp_path, monkeypatch):
    """Coverage may run on its own, after a curator has broken a file the load had accepted."""
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    for name in ("a-good", "b-case"):
        folder = make_source(raw, name, figures=GOOD_CSV.replace("syn-", f"{name[0]}-"))
        shutil.copyfile(FIXTURE / "article.txt", folder / "article.txt")
    monkeypatch.setenv(RAW_DIR_ENV, str(raw))
    resources = {"duckdb": DuckDBResource(database=str(warehouse)), "run_lock": RunLock()}
    assets = [raw_tables, text_coverage]
    assert dg.materialize(assets, resources=resources).success
    counts = "select source_id, count(*) from raw.text_coverage group by all order by all"
    measured = dict(query(warehouse, counts))
    assert measured["a-good"] == measured["b-case"] > 0

    (raw / "b-case" / "exclusions.csv").write_text("quote,reason\nx,y\n", encoding="utf-8")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        assets, selection=[TEXT_COVERAGE], resources=resources, instance=instance
    )
    assert result.success
    assert dict(query(warehouse, counts)) == {"a-good": measured["a-good"]}
    ((source_id, source_file, reason),) = query(
        warehouse, "select source_id, source_file, reason from raw.text_coverage_rejected"
    )
    assert source_id == "b-case" and source_file.endswith("b-case/exclusions.csv")
    assert reason.endswith("b-case/exclusions.csv: missing column 'language' in the header "
                           "(columns: language,quote,reason)")  # fmt: skip
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.WARNING
    ]
    assert any("coverage of b-case skipped" in w and "b-case/exclusions.csv" in w for w in warnings)
    with duckdb.connect(str(warehouse), read_only=True) as conn:  # the loaded rows stay
        assert conn.execute("select count(*) from raw.figures").fetchall()[0][0] == 6
