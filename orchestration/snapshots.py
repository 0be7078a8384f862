"""The published snapshot: one folder per build, and one atomic pointer to the current one.

Readers (BI tools, `make sql`, notebooks) never open the pipeline's working database; they read
the snapshot of the last complete, successful build:

  <publish dir>/builds/<build_id>/   giants.duckdb, parquet/<mart>/*.parquet, segment_revenue.svg,
                                     build.json; files read-only, written once, never changed
                                     (a Parquet file no row of which changed is a hard link to
                                     the previous build's: orchestration/published_parquet.py;
                                     the DuckDB file of the build a publish deletes may be moved
                                     into the new build and brought up to date, when no reader
                                     holds it: orchestration/published_copy.py)
  <publish dir>/current             a symlink to builds/<build_id>: replaced in one rename
  <publish dir>/giants.duckdb       -> current/giants.duckdb    stable paths for BI tools
  <publish dir>/parquet             -> current/parquet
  <publish dir>/segment_revenue.svg -> current/segment_revenue.svg

So every file of one build switches at the same instant, a reader that holds a file open keeps
its build until it reconnects, and a killed publish leaves only a `.partial` folder that the next
publish deletes (as it deletes a copy of a build's file that a killed run made ahead:
orchestration/copy_ahead.py). DuckDB resolves the symlinks and keeps a database's WAL beside
the real file, so a read-write session on the copy leaves its WAL inside that build's own
folder: it is never replayed onto a newer build, and it goes with its folder.

Pure Python; no Dagster.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestration.paths import PUBLISHED_DATABASE

BUILDS = "builds"
CURRENT = "current"
BUILD_INFO = "build.json"
PARQUET_DIR = "parquet"
CHART_FILE = "segment_revenue.svg"
PARTIAL_SUFFIX = ".partial"
# Earlier builds kept beside the current one: a reader that opened one just before a switch
# keeps a whole folder to read until it reconnects; older ones are deleted.
BUILDS_KEPT = 3
STABLE_LINKS = (PUBLISHED_DATABASE, PARQUET_DIR, CHART_FILE)
# Stable paths of earlier layouts, which would point at nothing once the builds they name go.
RETIRED_LINKS = ("segment_revenue.png",)
# The storage format of a build's DuckDB file. By default the oldest DuckDB 2.0 can still write:
# readable by every duckdb since 1.0 (June 2024), the engine inside current Metabase, DBeaver
# and duckdb-engine releases.
STORAGE_VERSION_ENV = "PUBLISH_STORAGE_VERSION"
DEFAULT_STORAGE_VERSION = "v1.0.0"


def storage_version() -> str:
    return os.environ.get(STORAGE_VERSION_ENV) or DEFAULT_STORAGE_VERSION


def new_build_id(run_id: str, now: datetime | None = None) -> str:
    """A build's id: when it was published (sortable) and the Dagster run that built it."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{moment}-{run_id[:8]}"


@dataclass(frozen=True)
class Build:
    """What a published build was made from, as build.json records it."""

    build_id: str
    run_id: str
    inputs_hash: str
    sources: dict[str, str]
    built_at: str
    folder: Path
    # what the next build is written from (orchestration/published_copy.py)
    storage_version: str = ""
    figures_built_at: str = ""
    # {mart: [{"file", "partition", "build_id", "rows"}]}: the build's Parquet files
    parquet: dict = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.folder / PUBLISHED_DATABASE


def partial_folder(publish_dir: Path, build_id: str) -> Path:
    """Where a build is written before it is complete (ignored by readers, deleted if left)."""
    return publish_dir / BUILDS / f".{build_id}{PARTIAL_SUFFIX}"


def write_build_info(folder: Path, info: dict) -> None:
    (folder / BUILD_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def current_build(publish_dir: Path) -> Build | None:
    """The build readers see now, if there is one whose files are all in place."""
    return read_build(publish_dir / CURRENT)


def retiring_build(publish_dir: Path, current: Build | None) -> Build | None:
    """The build the next publish deletes (`clean`, by the same rule), if there is one whose
    files are all in place: its database file can become the next build's
    (orchestration/published_copy.py) instead of a copy of `current`'s."""
    builds = publish_dir / BUILDS
    if current is None or not builds.is_dir():
        return None
    retired = [name for name in _beyond_kept(_finished(builds)) if name != current.folder.name]
    return read_build(builds / retired[0]) if retired else None


def read_build(folder: Path) -> Build | None:
    """The build in `folder` (a build folder, or the `current` link), if its files are in place."""
    try:
        info = json.loads((folder / BUILD_INFO).read_text())
    except (OSError, ValueError):
        return None
    build = Build(
        build_id=info.get("build_id", ""),
        run_id=info.get("run_id", ""),
        inputs_hash=info.get("inputs_hash", ""),
        sources=dict(info.get("sources") or {}),
        built_at=info.get("built_at", ""),
        folder=folder.resolve(),
        storage_version=info.get("storage_version", ""),
        figures_built_at=info.get("figures_built_at") or "",
        parquet=info.get("parquet") if isinstance(info.get("parquet"), dict) else {},
    )
    return build if build.database.is_file() else None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_read_only(folder: Path) -> None:
    """Files 0444, folders 0555: nothing of a published build is written after it is made."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
            path.chmod(0o444)
        elif path.is_dir():
            path.chmod(0o555)


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)


def remove_tree(folder: Path) -> None:
    """Delete a build folder even though its files and folders are read-only."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
        return
    _make_writable(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _point(link: Path, target: str) -> None:
    """Make `link` a symlink to `target` in one rename (whatever stood there before)."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    temporary = link.with_name(f".{link.name}.link.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    if link.exists() and link.is_dir() and not link.is_symlink():
        # a folder of the layout before builds had their own (published/parquet/): moved aside
        # first, since a rename cannot replace a folder with a link
        aside = link.with_name(f".{link.name}.old")
        remove_tree(aside)
        link.rename(aside)
        remove_tree(aside)
    os.replace(temporary, link)


def switch(publish_dir: Path, partial: Path, build_id: str) -> Path:
    """Make a complete partial build the current one: one rename of the `current` link.

    Before the switch the folder is renamed to its final name and made read-only; after it the
    stable paths point through `current` (created once), and stale files go.
    """
    builds = publish_dir / BUILDS
    final = builds / build_id
    _make_read_only(partial)
    partial.chmod(0o755)  # renaming a folder rewrites its `..` entry
    partial.rename(final)
    final.chmod(0o555)
    _fsync_dir(builds)
    _point(publish_dir / CURRENT, f"{BUILDS}/{build_id}")
    for name in STABLE_LINKS:
        _point(publish_dir / name, f"{CURRENT}/{name}")
    _fsync_dir(publish_dir)
    clean(publish_dir, keep=build_id)
    return final


def _finished(builds: Path) -> list[str]:
    """The names of the finished builds in `builds`, oldest first (ids sort by time)."""
    return sorted(p.name for p in builds.iterdir() if p.is_dir() and not p.name.startswith("."))


def _beyond_kept(earlier: list[str]) -> list[str]:
    """Of the builds before the newest (oldest first), those beyond BUILDS_KEPT in all."""
    return earlier[: max(0, len(earlier) - (BUILDS_KEPT - 1))]


def clean(publish_dir: Path, keep: str) -> list[Path]:
    """Delete what no reader may use: builds beyond the newest kept, left partial builds, and
    WAL and temporary files of earlier sessions (a read-write session's WAL in a build folder,
    files of the layout before builds had folders of their own, the stable path of the chart
    when it was a PNG).

    Called under the run lock, by the run that just published `keep`.
    """
    builds = publish_dir / BUILDS
    removed: list[Path] = []
    old = [builds / name for name in _beyond_kept([n for n in _finished(builds) if n != keep])]
    leftovers = [p for p in builds.iterdir() if p.name.startswith(".")]
    for path in [*old, *leftovers]:
        remove_tree(path)
        removed.append(path)
    for folder in (p for p in builds.iterdir() if p.is_dir()):
        for wal in folder.glob("*.wal"):
            with contextlib.suppress(OSError):
                folder.chmod(0o755)
                wal.unlink()
                removed.append(wal)
            with contextlib.suppress(OSError):
                folder.chmod(0o555)
    stale_files = [*publish_dir.glob("*.wal"), *publish_dir.glob(".*.tmp")]
    stale_files += [link for n in RETIRED_LINKS if (link := publish_dir / n).is_symlink()]
    for stale in stale_files:
        with contextlib.suppress(OSError):
            if stale.is_dir() and not stale.is_symlink():
                remove_tree(stale)
            else:
                stale.unlink()
            removed.append(stale)
    return removed


# A test hook: with GIANTS_PAUSE_AT=<point> in the environment or as a run tag, a run stops at
# that point (after the load; after the DuckDB copy; after the first Parquet file) and writes
# builds/.<point>.paused until it is killed, so that the fault tests kill a run there for
# certain rather than by luck. Unset, it costs a look-up.
PAUSE_ENV = "GIANTS_PAUSE_AT"
PAUSE_TAG = "giants/pause_at"


def pause_point(name: str, publish_dir: Path, tags: dict | None = None) -> None:
    if name not in (os.environ.get(PAUSE_ENV), (tags or {}).get(PAUSE_TAG)):
        return
    (publish_dir / BUILDS).mkdir(parents=True, exist_ok=True)
    (publish_dir / BUILDS / f".{name}.paused").write_text(str(os.getpid()))
    time.sleep(3600)
