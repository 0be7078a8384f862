"""Source folders' hashes, kept while the files they were computed from are unchanged.

A folder's hash (`folder_files.folder_hash`) reads its contract files and its article text. The
raw/ sensor compares every folder each tick and `make run` before each run, so without this
module both read all of raw/ every time (what that reads at 10^7 figures: benchmarks/RESULTS.md).

Each hash is kept with the identity of the paths that decide it (`folder_files.hashed_folder`):
device, inode, type, size, and the modification and change times in ns, as `lstat` gives them.
The hash is used again only while every path has the same identity, the contract's hash and the
text folders are the same, and the newest of those times is at least RACY_SECONDS older than the
moment the hash began. A program can set a file's modification time back but not its change
time, so a file rewritten with its old size and times still counts as changed; and a file
changed while it was read, or within the clock's coarse step of it, is read again (this takes
the file system's times from this machine's clock, as a local disk does). A folder
whose paths cannot tell (a link, a refused file, a text that is not on this machine) is hashed
every time.

Kept in `raw_hashes.json` in the Dagster instance's folder (DAGSTER_HOME), written whole and
renamed into place. Every entry checks itself, so two processes writing at once lose at most a
hash to compute again; the loader only reads it (`load.py`).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from pathlib import Path

from orchestration.figures.provenance import text_dirs
from orchestration.ingestion.folder_files import contract_hash, hashed_folder

FILE_NAME = "raw_hashes.json"
RACY_SECONDS = 2.0
FORMAT = 1


def _identity(path: Path) -> list[int] | None:
    """What lstat says of a path (None when it does not exist)."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    return [
        found.st_dev, found.st_ino, found.st_mode, found.st_size,
        found.st_mtime_ns, found.st_ctime_ns,
    ]  # fmt: skip


def _identities(paths: list[Path]) -> list[list[int] | None] | None:
    """Each path's identity; None when one is a link or cannot be looked at."""
    try:
        found = [_identity(path) for path in paths]
    except OSError:
        return None
    if any(entry is not None and stat.S_ISLNK(entry[2]) for entry in found):
        return None
    return found


def _key(folder: Path) -> str:
    return os.path.abspath(folder)


def _context() -> list[str]:
    """What every hash also depends on: the contract and where texts are looked for."""
    return [contract_hash(), *(str(d) for d in text_dirs())]


class FolderHashes:
    """The kept hashes of one Dagster instance (in memory when DAGSTER_HOME is not set)."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.entries: dict[str, dict] = {}
        self.changed = False
        self.context = _context()
        if store is not None:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(store.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("format") == FORMAT:
                    self.entries = data.get("folders") or {}

    @classmethod
    def of_instance(cls) -> FolderHashes:
        home = os.environ.get("DAGSTER_HOME")
        return cls(Path(home) / FILE_NAME if home else None)

    def known(self, folder: Path) -> str | None:
        """The folder's kept hash, if it still holds; never reads the folder's files."""
        entry = self.entries.get(_key(folder))
        try:
            if entry["context"] != self.context:
                return None
            paths = [Path(p) for p in entry["paths"]]
            if not paths or _identities(paths) != entry["identities"]:
                return None
            times = [t for found in entry["identities"] if found for t in found[4:6]]
            if entry["hashed_ns"] - max(times, default=0) < RACY_SECONDS * 1e9:
                return None
            return str(entry["hash"])
        except (KeyError, TypeError, ValueError):  # no entry, or not one this module wrote
            return None

    def hash(self, folder: Path) -> str:
        """The folder's hash: the kept one while it holds, else computed (and kept)."""
        digest = self.known(folder)
        if digest is not None:
            return digest
        # A file changed while (or after) it is read has a change time later than this, so
        # its entry is never used: `known` reads the folder again.
        hashed_ns = time.time_ns()
        digest, paths = hashed_folder(folder)
        identities = _identities(paths) if paths else None
        key = _key(folder)
        if identities is not None:
            self.entries[key] = {
                "context": self.context,
                "paths": [str(p) for p in paths],
                "identities": identities,
                "hashed_ns": hashed_ns,
                "hash": digest,
            }
            self.changed = True
        elif self.entries.pop(key, None) is not None:
            self.changed = True
        return digest

    def save(self) -> None:
        """Write the kept hashes, without the folders that are gone."""
        gone = [key for key in self.entries if not os.path.lexists(key)]
        for key in gone:
            del self.entries[key]
        if self.store is None or not (self.changed or gone):
            return
        partial = self.store.with_name(f".{FILE_NAME}.{os.getpid()}")
        with contextlib.suppress(OSError):
            partial.write_text(
                json.dumps({"format": FORMAT, "folders": self.entries}), encoding="utf-8"
            )
            os.replace(partial, self.store)
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        self.changed = False
