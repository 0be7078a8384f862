"""Where things live, and the environment variables that move the warehouse.

Pure Python: the schemas, the loader, dbt's profile and the tests all agree on these.

The warehouse is a local DuckDB file ($WAREHOUSE_PATH), or a MotherDuck database: `md:<name>`,
chosen by DBT_TARGET=motherduck (the name from $MOTHERDUCK_DATABASE), as dbt's profile chooses
its `motherduck` output, or written directly as WAREHOUSE_PATH=md:<name>.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# dbt's own variable; the benchmarks point it at a snapshot of dbt_project/ so that edits made
# while they run do not change the project under them.
DBT_PROJECT_DIR = Path(os.environ.get("DBT_PROJECT_DIR") or PROJECT_ROOT / "dbt_project").resolve()
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
# What a run asks of dbt (and what the benchmarks' bare `dbt build` runs). dbt's unit tests check
# the models' SQL on fixed rows, not the data: they run in the test suite
# (tests/test_dbt_unit_tests.py), where the SQL changes; every data test runs in every full build.
UNIT_TESTS = "resource_type:unit_test"
DBT_BUILD = ["build", "--exclude", UNIT_TESTS]
# An incremental build (orchestration/build_state.py) runs on top of a complete build of the same
# project, seeds included: a changed seed changes the project's hash and makes the build a full
# one. So the seeds, and the tests of seeds alone, are as that build loaded and tested them, and
# are left out. A test of a model and a seed still runs: with `cautious`, excluding a node
# leaves out only the tests whose every node is left out (tests/test_incremental.py).
# (dagster-dbt passes one --exclude on to dbt: its selectors in one value, space-separated.)
DBT_INCREMENTAL_BUILD = [
    "build",
    "--exclude",
    f"{UNIT_TESTS} resource_type:seed",
    "--indirect-selection",
    "cautious",
]

WAREHOUSE_ENV = "WAREHOUSE_PATH"
RAW_DIR_ENV = "RAW_DIR"
TARGET_ENV = "DBT_TARGET"
MOTHERDUCK_TARGET = "motherduck"
MOTHERDUCK_DATABASE_ENV = "MOTHERDUCK_DATABASE"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_MOTHERDUCK_DATABASE = "giants"
DEFAULT_RAW_DIR = PROJECT_ROOT / "raw"
MOTHERDUCK_PREFIX = "md:"


def is_motherduck(location: str | os.PathLike) -> bool:
    """Whether a warehouse location is a MotherDuck database (`md:<name>`), not a file."""
    return os.fspath(location).startswith(MOTHERDUCK_PREFIX)


def warehouse_location() -> str:
    """What DuckDB opens, by the rule dbt_project/profiles.yml follows too.

    $WAREHOUSE_PATH when it is `md:<database>`; else, under DBT_TARGET=motherduck,
    `md:$MOTHERDUCK_DATABASE` (default giants); else the file $WAREHOUSE_PATH, made absolute
    (dbt runs in dbt_project/, Dagster where it was started), default data/warehouse.duckdb.
    """
    configured = os.environ.get(WAREHOUSE_ENV) or ""
    if is_motherduck(configured):
        return configured
    if os.environ.get(TARGET_ENV) == MOTHERDUCK_TARGET:
        name = os.environ.get(MOTHERDUCK_DATABASE_ENV) or DEFAULT_MOTHERDUCK_DATABASE
        return f"{MOTHERDUCK_PREFIX}{name}"
    return os.fspath(Path(configured or DEFAULT_WAREHOUSE).resolve())


def warehouse_path() -> Path:
    """The DuckDB file the pipeline writes: $WAREHOUSE_PATH, else data/warehouse.duckdb.

    On MotherDuck there is no file: the Path is `md:<database>` as is (`str()` gives it back
    for duckdb.connect), and has no folder and never `exists()`; check is_motherduck() first.
    """
    return Path(warehouse_location())


PUBLISH_DIR_ENV = "PUBLISH_DIR"
PUBLISHED_DATABASE = "giants.duckdb"


def publish_dir() -> Path:
    """Where BI tools read from (orchestration/publish.py): $PUBLISH_DIR, else published/
    beside the warehouse file (data/published/ for a MotherDuck warehouse)."""
    configured = os.environ.get(PUBLISH_DIR_ENV)
    if configured:
        return Path(configured).resolve()
    warehouse = warehouse_location()
    if is_motherduck(warehouse):  # a shared warehouse has no folder of its own
        return PROJECT_ROOT / "data" / "published"
    return Path(warehouse).parent / "published"


def raw_dir() -> Path:
    """The folder of source folders: $RAW_DIR, else raw/."""
    return Path(os.environ.get(RAW_DIR_ENV) or DEFAULT_RAW_DIR).resolve()


# What dbt reads to parse the project: a change to any of these makes the manifest stale.
DBT_PARSED_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")


def dbt_project_files(project_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Every file dbt parses in a project: its folders, dbt_project.yml and profiles.yml."""
    files = [p for d in DBT_PARSED_FOLDERS for p in (project_dir / d).rglob("*") if p.is_file()]
    files += [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    return sorted(p for p in files if p.is_file())


def display(path: Path) -> str:
    """A path as a user would type it: relative to the project when inside it (symlinks, such
    as the published snapshot's stable paths, are shown as they are, not resolved)."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def dbt_target_dir() -> Path:
    """dbt's target folder: $DBT_TARGET_PATH (dbt's own variable), else dbt_project/target."""
    return DBT_PROJECT_DIR / (os.environ.get("DBT_TARGET_PATH") or "target")


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's venv), else whatever PATH finds."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.is_file() else (shutil.which("dbt") or "dbt")


def dbt_process(cwd: str | os.PathLike, env: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The folder to start dbt in, and its environment, for dbt to open the warehouse file by
    its name alone, instead of starting in `cwd` with `env`.

    dbt keeps its parse for the next command (target/partial_parse.msgpack) only while its
    profile is unchanged, and the profile's `path` is $WAREHOUSE_PATH: a parse made for one path
    is thrown away for any other, and the command parses the whole project again. So dbt starts
    in the warehouse file's folder with $WAREHOUSE_PATH its name (which stays in the profile: it
    names the database in compiled queries), the project and profiles folders in dbt's own
    variables: one parse then serves a warehouse.duckdb wherever it is (a WAREHOUSE_PATH set
    after `make` prepared the parse, the tests', the benchmarks'). Paths in dbt's arguments
    must be absolute. Without a warehouse file (MotherDuck, or no $WAREHOUSE_PATH: the
    profile's default), `cwd` and `env` are returned as they are."""
    env = dict(env)
    here = os.path.abspath(cwd)
    location = env.get(WAREHOUSE_ENV) or ""
    if not location or is_motherduck(location) or env.get(TARGET_ENV) == MOTHERDUCK_TARGET:
        return here, env
    file = os.path.normpath(os.path.join(here, location))  # as dbt started here would open it
    for name in ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_LOG_PATH"):
        if env.get(name):
            env[name] = os.path.join(here, env[name])
    if not env.get("DBT_PROJECT_DIR"):
        env["DBT_PROJECT_DIR"] = here
    if not env.get("DBT_PROFILES_DIR") and os.path.isfile(os.path.join(here, "profiles.yml")):
        env["DBT_PROFILES_DIR"] = here  # where dbt, started here, would have found it
    env[WAREHOUSE_ENV] = os.path.basename(file)
    return os.path.dirname(file), env


# What runs start instead of dbt: dbt as a child that dies with the run (orchestration/bin/dbt).
GUARDED_DBT = PROJECT_ROOT / "orchestration" / "bin" / "dbt"
REAL_DBT_ENV = "GIANTS_DBT_EXECUTABLE"
