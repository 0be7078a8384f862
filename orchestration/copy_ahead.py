"""The current build's DuckDB file, copied while dbt builds, for the publish to bring up to date.

An incremental build's publish writes its DuckDB copy from an earlier build's file
(orchestration/published_copy.py). When no build is being retired (the second and third builds,
while fewer than snapshots.BUILDS_KEPT are kept), that file is the current build's, copied: the
whole file read, written and flushed to disk while the publish step waits (its size at ten
million figures: benchmarks/RESULTS.md). A published build's file never changes, so it can be
copied earlier: the dbt step of a run that will publish starts the copy in a thread of its own
process, into `builds/.ahead-<build_id>.duckdb.tmp`, flushes it to disk and renames it without
`.tmp` when complete; the publish step takes that file (waiting for the thread when it still
runs) and copies the file itself only when there is none.

What a run leaves (it failed, or was killed, before publishing) is deleted by the next dbt step
that copies ahead and by every publish (`discard`; and snapshots.clean deletes every dot-file
of builds/). Pure Python; no Dagster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

from orchestration import snapshots

PREFIX = ".ahead-"
SUFFIX = ".duckdb"
PARTIAL = ".tmp"

# The copies this process is writing, by the path of the finished file.
_threads: dict[Path, threading.Thread] = {}


def ahead_path(publish_dir: Path, build_id: str) -> Path:
    """Where the copy of build `build_id`'s file is, once complete."""
    return publish_dir / snapshots.BUILDS / f"{PREFIX}{build_id}{SUFFIX}"


def source_build(publish_dir: Path, storage_version: str) -> snapshots.Build | None:
    """The build whose file the publish will copy, if it copies one: the current build, when no
    build is retired (its file would be moved instead) and the copy can be patched (the same
    storage format; a build that recorded when its figures were written)."""
    current = snapshots.current_build(publish_dir)
    if current is None or current.storage_version != storage_version:
        return None
    if not current.figures_built_at:
        return None
    if snapshots.retiring_build(publish_dir, current) is not None:
        return None
    return current


def _copy(source: Path, finished: Path) -> None:
    partial = finished.with_name(finished.name + PARTIAL)
    try:
        shutil.copyfile(source, partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, finished)
    except OSError:  # no room, or the folder went: the publish copies the file itself
        partial.unlink(missing_ok=True)


def start(publish_dir: Path, storage_version: str) -> Path | None:
    """Start copying the file the publish will copy, if any; return where it will be."""
    discard(publish_dir)
    build = source_build(publish_dir, storage_version)
    if build is None:
        return None
    finished = ahead_path(publish_dir, build.build_id)
    thread = threading.Thread(
        target=_copy, args=(build.database, finished), name="copy-ahead", daemon=True
    )
    _threads[finished] = thread
    thread.start()
    return finished


def take(publish_dir: Path, build_id: str) -> Path | None:
    """The complete copy of build `build_id`'s file, once its thread (if this process runs it)
    has finished; None when there is none."""
    finished = ahead_path(publish_dir, build_id)
    thread = _threads.pop(finished, None)
    if thread is not None:
        thread.join()
    return finished if finished.is_file() else None


def discard(publish_dir: Path) -> None:
    """Wait for this process's copies, then delete every copy made ahead in `publish_dir`."""
    for finished in list(_threads):
        _threads.pop(finished).join()
    builds = publish_dir / snapshots.BUILDS
    if not builds.is_dir():
        return
    for path in builds.glob(f"{PREFIX}*"):
        with contextlib.suppress(OSError):
            path.unlink()
