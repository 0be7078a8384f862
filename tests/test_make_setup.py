"""dbt's parse is prepared again exactly when the runs' copy of it is no longer theirs.

Each case asks `make -q` (which runs nothing) whether the parse is up to date, in a copy of the
Makefile and the dbt project whose files' times the test sets, and `orchestration.prepare.stale`
(what the test suite asks when pytest runs without make) the same: both must answer alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestration.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from orchestration.prepare import PREPARED as STAMP
from orchestration.prepare import stale

PREPARED = f"dbt_project/target/{STAMP}"
PARSE = "dbt_project/target/partial_parse.msgpack"
MANIFEST = "dbt_project/target/manifest.json"


def set_time(path: Path, seconds: float) -> None:
    os.utime(path, (seconds, seconds))


@pytest.fixture
def project(tmp_path) -> Path:
    """The Makefile and dbt project, set up and prepared in that order, an hour apart."""
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy2(PROJECT_ROOT / name, tmp_path / name)
    shutil.copytree(
        DBT_PROJECT_DIR, tmp_path / "dbt_project", ignore=shutil.ignore_patterns("target", "logs")
    )
    for name in (".tools/bin/uv", ".venv/.synced", MANIFEST, PARSE, PREPARED):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    start = 1_700_000_000
    for path in tmp_path.rglob("*"):
        set_time(path, start)
    set_time(tmp_path / ".tools/bin/uv", start + 3600)
    set_time(tmp_path / ".venv/.synced", start + 7200)
    for name in (MANIFEST, PARSE):
        set_time(tmp_path / name, start + 10_800)
    set_time(tmp_path / PREPARED, start + 10_801)
    return tmp_path


def prepares(project: Path) -> bool:
    """Whether `make setup` would prepare dbt's parse again (and `stale` says the same)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "-q", PREPARED], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    answer = result.returncode == 1
    assert stale(project / "dbt_project" / "target", project / "dbt_project") == answer
    return answer


def test_a_prepared_parse_is_kept(project):
    assert not prepares(project)


def test_a_run_that_rewrites_the_manifest_alone_changes_nothing(project):
    """Every run's dbt writes manifest.json; it rewrites the parse only when it parsed."""
    set_time(project / MANIFEST, 1_800_000_000)
    assert not prepares(project)


def test_a_parse_written_by_a_dbt_command_run_by_hand_is_prepared_again(project):
    """`dbt ls` in dbt_project/ without the runs' WAREHOUSE_PATH parses for a profile of its own
    and writes its parse over theirs: the next run would parse the whole project again."""
    set_time(project / PARSE, 1_800_000_000)
    set_time(project / MANIFEST, 1_800_000_000)
    assert prepares(project)


@pytest.mark.parametrize("name", [PARSE, MANIFEST])
def test_a_missing_parse_or_manifest_is_prepared_again(project, name):
    (project / name).unlink()
    assert prepares(project)


def test_a_changed_dbt_file_is_prepared_again(project):
    set_time(project / "dbt_project" / "dbt_project.yml", 1_800_000_000)
    assert prepares(project)
