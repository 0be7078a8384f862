"""Where things live, and the environment variables that move the warehouse.

Pure Python: the schemas, the loader, dbt's profile and the tests all agree on these.

The warehouse is a local DuckDB file ($WAREHOUSE_PATH), or a MotherDuck database: `md:<name>`,
chosen by DBT_TARGET=motherduck (the name from $MOTHERDUCK_DATABASE), as dbt's profile chooses
its `motherduck` output, or written directly as WAREHOUSE_PATH=md:<name>.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# dbt's own variable; the benchmarks point it at a snapshot of dbt_project/ so that edits made
# while they run do not change the project under them.
DBT_PROJECT_DIR = Path(os.environ.get("DBT_PROJECT_DIR") or PROJECT_ROOT / "dbt_project").resolve()
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

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


def replace_durably(temporary: Path, final: Path) -> None:
    """Rename `temporary` over `final` in one step, with both on disk: readers see the old file
    or the new one, never a part, and a power cut keeps one of them."""
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def display(path: Path) -> str:
    """A path as a user would type it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def build_dir(warehouse: Path) -> Path:
    """Where `make run` builds: always the same folder, so dbt's partial parsing holds.

    dbt keys its parse on the profile, which names the database path: a new folder per run made
    dbt parse the whole project every run (1.5-3 s). The run lock keeps the folder to one run.
    """
    return warehouse.parent / f".{warehouse.name}.build"


def run_location(location: str) -> str:
    """The database a `make run` of this warehouse builds in: its copy, or MotherDuck's."""
    if is_motherduck(location):
        return location
    warehouse = Path(location)
    return os.fspath(build_dir(warehouse) / warehouse.name)


PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's own file name, in its target folder


def save_parse(parsed: Path, location: str) -> Path:
    """Keep a partial parse of dbt's for the runs against `location`; where it is kept."""
    cache = parse_cache_file(dbt_target_dir(), location)
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    shutil.copyfile(parsed, temporary)
    replace_durably(temporary, cache)
    return cache


def parse_cache_file(target_dir: Path, location: str) -> Path:
    """Where dbt's partial parse for runs against this database is kept between runs.

    dbt keys partial parsing on the profile, which names the database: a `make run` (into its
    build copy) and a run from the UI (in place) parse against different paths, and with one
    shared file each would find the other's and parse the whole project again (1.5-3 s).
    """
    profile = f"{os.environ.get(TARGET_ENV, '')}|{location}"
    key = hashlib.sha256(profile.encode()).hexdigest()[:16]
    return target_dir / "partial_parse" / f"{key}.msgpack"


def dbt_target_dir() -> Path:
    """dbt's target folder: $DBT_TARGET_PATH (dbt's own variable), else dbt_project/target."""
    return DBT_PROJECT_DIR / (os.environ.get("DBT_TARGET_PATH") or "target")


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's venv), else whatever PATH finds."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.is_file() else (shutil.which("dbt") or "dbt")
