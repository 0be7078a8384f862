"""One `make run` at a time per warehouse: an exclusive lock on a file beside the warehouse.

DuckDB lets one process write a database file, but a run opens and closes it many times (the
loader, each check, the dbt subprocess), so two runs at once would interleave their steps. The
lock spans the whole run instead. It is an `flock` on `<warehouse>.lock`: the kernel releases it
when the holding process ends, however it ends (SIGKILL included), so a killed run never leaves
a stale lock behind and nothing needs cleaning by hand. A second run does not wait: it says who
holds the lock and exits, because a scheduled run and a hand-started one are rarely meant to
both rebuild the same data one after the other.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path


class RunInProgress(Exception):
    """Another process holds the warehouse's run lock."""


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse: beside it, so every run of that file finds the same one."""
    return warehouse.with_name(warehouse.name + ".lock")


@contextlib.contextmanager
def exclusive_run(warehouse: Path) -> Iterator[Path]:
    """Hold the warehouse's run lock for the block, or raise RunInProgress at once."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(_holder(fd)) from None
        # Who holds it, for the message a refused run prints; the content is only informative.
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)  # a killed holder's line may still be there
        os.pwrite(fd, f"pid {os.getpid()}, started {started}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # no stale holder for the next refused run to name
    finally:
        os.close(fd)  # releases the lock; the file stays, so no run ever locks a stale copy


def _holder(fd: int) -> str:
    """What the holder wrote; it writes right after taking the lock, so wait a moment for it."""
    for _ in range(50):
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        if holder:
            return holder
        time.sleep(0.01)
    return "another process"
