"""A source folder's hash, read from its files alone: what tells whether a source changed.

The `make run` fingerprint, the raw/ sensor (through `folder_hashes.py`) and the loader
(`raw_files.scan_folder`, from the files it reads anyway) hash a folder the same way: its
contract files, its article text and the contract itself (`contract_hash`: the rules' modules
and the seeds), so that a change to any of them re-checks the source. A folder or file that is
refused is hashed by its refusal, and is never read; files are read only through
`orchestration/confine.py`, as everywhere raw/ is read (docs/security.md).

Without pandas or pandera: a `make run` with nothing changed imports this, not the loader.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import yaml

from orchestration.confine import (
    Refused,
    file_in_folder,
    folder_problem,
    printable,
    read_limited,
    shown,
)
from orchestration.figures.provenance import read_text, resolve_text, text_roots
from orchestration.ingestion import strict_yaml
from orchestration.limits import MAX_FILE_BYTES
from orchestration.paths import PROJECT_ROOT, SEEDS_DIR, display
from orchestration.schemas.ids import ID_PATTERN

SOURCE_FILE = "source.yaml"
FIGURES_FILE = "figures.csv"
EXCLUSIONS_FILE = "exclusions.csv"
CONTRACT_FILES = (SOURCE_FILE, FIGURES_FILE, EXCLUSIONS_FILE)

# What defines the contract a source is checked against, besides the seeds: the rules, their
# messages, the limits and the readers. Their bytes are part of contract_hash(), so a change to
# any rule re-checks every source, with nothing to bump by hand.
CONTRACT_MODULES = (
    "orchestration/schemas/figures.py",
    "orchestration/schemas/ids.py",
    "orchestration/schemas/contract_sql.py",
    "orchestration/schemas/validation.py",
    "orchestration/figures/messages.py",
    "orchestration/figures/numbers.py",
    "orchestration/figures/provenance.py",
    "orchestration/limits.py",
    "orchestration/confine.py",
    "orchestration/ingestion/strict_yaml.py",
    "orchestration/figures/csv_records.py",
    "orchestration/ingestion/folder_files.py",
    "orchestration/ingestion/raw_files.py",
    "orchestration/ingestion/python_csv.py",
    "orchestration/ingestion/load.py",
    "orchestration/ingestion/raw_tables.py",
    "orchestration/ingestion/duckdb_csv.py",
    "orchestration/ingestion/contract_check.py",
    "orchestration/ingestion/folder_hashes.py",
)


def discover(raw_dir: Path) -> list[Path]:
    """Source folders: every folder under raw/ whose name does not start with '.' or '_'."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir} is not a folder: set RAW_DIR or create raw/")
    return sorted(p for p in raw_dir.iterdir() if p.is_dir() and p.name[0] not in "._")


@cache
def contract_hash() -> str:
    """sha256 of what a figure is checked against: the seeds and the contract's modules."""
    digest = hashlib.sha256()
    for name in CONTRACT_MODULES:
        digest.update(name.encode())
        digest.update((PROJECT_ROOT / name).read_bytes())
    for path in sorted(SEEDS_DIR.glob("*.csv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class FolderFiles:
    """A folder's contract files as read: their bytes (None when absent), and the refused ones."""

    data: dict[str, bytes | None] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def refused_folder(folder: Path) -> str | None:
    """Why a folder is not read at all: its name is no source id, or it is a link out of raw/."""
    if re.fullmatch(ID_PATTERN, folder.name) is None:
        return (
            f"the folder {printable(folder.name)!r} in {display(folder.parent)} is not named as "
            "a source: a folder's name is its source_id, of lowercase letters, digits, '.', '_' "
            "and '-', starting with a letter or a digit (raw/README.md)"
        )
    return folder_problem(folder, folder.parent)


def folder_hash(folder: Path) -> str:
    """sha256 over the folder's contract files, its article text and the contract.

    What the `make run` fingerprint and the raw/ sensor compare (through `folder_hashes.py`,
    which keeps it while the files are unchanged): the loader's own hash (`scan_folder`) covers
    the same, from the files it has read anyway. A folder or file that is refused is hashed by
    its refusal, and is never read.
    """
    return hashed_folder(folder)[0]


def hashed_folder(folder: Path) -> tuple[str, list[Path] | None]:
    """folder_hash, and the paths that decide it: the folder, its contract files (present or
    not), and for a text entry that is a plain file name, the text folders and the file found.
    None in place of the paths when they cannot tell: a folder or a file refused, a text not
    found on this machine, or one named with a folder or through a link."""
    problem = refused_folder(folder)
    if problem:
        return files_hash(FolderFiles(), None, problem), None
    files = contract_files(folder)
    entry, path, text, refusal = named_text(folder, files)
    digest = files_hash(files, text)
    paths = [folder, *(folder / name for name in CONTRACT_FILES)]
    if files.refused or refusal is not None:
        return digest, None
    if entry is not None:
        roots = text_roots(folder)
        if path is None or path.name != entry or path.parent not in roots:
            return digest, None
        paths += [*roots, path]
    return digest, paths


class NamedText(NamedTuple):
    """The text a source.yaml names: its entry, where it was found (None when this machine has
    it nowhere), its bytes (a refusal's bytes stand for a refused one) and why it was refused."""

    entry: str | None = None
    path: Path | None = None
    data: bytes | None = None
    refusal: str | None = None


def named_text(folder: Path, files: FolderFiles) -> NamedText:
    """The text source.yaml names, as a folder's hash counts it: the loader's hash
    (`scan_folder`) and `folder_hash` take it from here, whatever else is wrong with
    source.yaml, so that the two always agree."""
    entry = text_entry(files.data[SOURCE_FILE])
    if entry is None:
        return NamedText()
    return NamedText(entry, *find_text(entry, folder))


def text_entry(source_yaml: bytes | None) -> str | None:
    """The `text` entry of source.yaml, if it parses and names one."""
    try:
        data = strict_yaml.load((source_yaml or b"").decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    entry = data.get("text") if isinstance(data, dict) else None
    if not isinstance(entry, str | int | float) or entry == "":
        return None
    return str(entry)


def find_text(entry: str, folder: Path) -> tuple[Path | None, bytes | None, str | None]:
    """(path, bytes, refusal) of a source's text: bytes stand for a refusal in the hash."""
    try:
        path = resolve_text(entry, folder)
        return (path, read_text(path), None) if path else (None, None, None)
    except Refused as error:
        refusal = str(error)
    except OSError as error:
        refusal = f"text {entry!r} cannot be read ({error.strerror})"
    return None, b"\0refused " + refusal.encode(), refusal


def contract_files(folder: Path) -> FolderFiles:
    """Each contract file's bytes, read only when it is a file of the folder within its limit."""
    files = FolderFiles()
    for name in CONTRACT_FILES:
        path = folder / name
        files.data[name] = None
        try:
            if not path.exists() and not path.is_symlink():
                continue
            files.data[name] = read_limited(
                file_in_folder(path, folder), MAX_FILE_BYTES[name], name, path
            )
        except Refused as error:
            files.refused[name] = str(error)
        except OSError as error:
            files.refused[name] = f"{shown(path)} cannot be read ({error.strerror})"
    return files


def files_hash(files: FolderFiles, text: bytes | None, problem: str | None = None) -> str:
    digest = hashlib.sha256(contract_hash().encode())
    if problem is not None:
        digest.update(b"\0folder refused " + problem.encode())
    for name in CONTRACT_FILES:
        digest.update(name.encode())
        if name in files.refused:
            digest.update(b"\0refused " + files.refused[name].encode())
        else:
            data = files.data.get(name)
            digest.update(b"\0missing" if data is None else data)
    if text is not None:
        digest.update(b"text")
        digest.update(text)
    return digest.hexdigest()
