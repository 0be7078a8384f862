"""Reading the files of raw/: only inside the folders they may come from, never past a limit.

raw/ is contributed input (docs/security.md). A folder may hold a link to /etc/passwd, name
/proc/self/environ or ../../.env as its text, or be a link itself; none of that may be read,
because whatever is read can end up in a table, a log or the published copy. So every path
is checked after resolving it (links followed, `..` folded) against the folders it may come
from, the kernel's pseudo-files are never read, and a file is read only when it is a regular
file within its size limit (orchestration/limits.py). Pure Python.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from orchestration.limits import size_text
from orchestration.paths import display

# The kernel's pseudo-files: never read from, whatever the configured folders say.
SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def printable(text: str) -> str:
    """A file name as text a table can hold: bytes that are not UTF-8 written as \\xff."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def resolved(path: Path) -> Path:
    """path.resolve(), with a link that loops refused instead of raising RuntimeError."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as error:
        raise Refused(
            f"{shown(path)} is a link that leads to itself or cannot be followed"
        ) from error


def shown(path: Path) -> str:
    """A path of raw/ as a user would type it, the link it may be left as it is.

    `paths.display` resolves a path, so a link would show as its target: /etc/passwd in place
    of raw/x/figures.csv, naming the machine's file instead of the user's.
    """
    return printable(str(Path(display(path.parent)) / path.name))


class Refused(ValueError):
    """A file the pipeline will not read, or a file over its limit: the message says which."""


def within(path: Path, roots: Iterable[Path]) -> bool:
    """Whether a resolved path is one of the (resolved) roots or lies below one of them."""
    if any(path.is_relative_to(folder) for folder in SYSTEM_FOLDERS):
        return False
    return any(path.is_relative_to(root) for root in roots)


def folder_problem(folder: Path, raw: Path) -> str | None:
    """Why a source folder is not read at all (a link out of raw/), or None."""
    try:
        target = resolved(folder)
    except Refused as error:
        return str(error)
    if not within(target, [raw.resolve()]):
        return (
            f"{shown(folder)} is a link to a folder outside {display(raw)}: "
            "a source folder must be a real folder inside raw/"
        )
    return None


def file_in_folder(path: Path, folder: Path) -> Path:
    """The resolved path of a file of a source folder; Refused when a link leads out of it."""
    target = resolved(path)
    if not within(target, [folder.resolve()]):
        raise Refused(
            f"{shown(path)} is a link to a file outside {shown(folder)}: "
            "copy the file into the folder instead of linking to it"
        )
    return target


def read_limited(path: Path, limit: int, kind: str, named: Path | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; Refused otherwise, naming the file
    as `named` (the link the user wrote, when `path` is where it leads).

    Opened without blocking, then checked on the open file: a FIFO or a device is refused
    instead of hanging or streaming for ever, and the size is checked before anything is
    read (and again while reading, for a file that grows).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{shown(named or path)} is not a regular file: {kind} must be one")
        if info.st_size <= limit:
            with os.fdopen(descriptor, "rb", closefd=False) as handle:
                # its size, not the limit: a buffer of the limit would be allocated every time
                data = handle.read(info.st_size + 1)
                if len(data) > info.st_size:  # it grew since
                    data += handle.read(limit + 1 - len(data))
            if len(data) <= limit:
                return data
        raise Refused(
            f"{shown(named or path)} is {max(info.st_size, limit + 1):,} bytes, over the limit of "
            f"{size_text(limit)} for {kind} (raw/README.md): split or shorten it"
        )
    finally:
        os.close(descriptor)
