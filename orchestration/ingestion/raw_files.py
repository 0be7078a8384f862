"""Read every raw/<source_id>/ folder: its metadata, its hash, and how its figures.csv is read.

Pure Python (PyYAML, pandera for source.yaml), no Dagster. The figures themselves are parsed and
checked by DuckDB in `load.py`; this module does what is cheap per folder and what needs exact
words for a curator: the folder's hash (`folder_files.py`, from the files read here),
source.yaml, the header of figures.csv, and whether the file is read by DuckDB or, for the few
files DuckDB cannot read cleanly (a wrong header, a stray field, a quoted line break, a GBK
export), line by line by Python (`python_csv.py`). Nothing is dropped: a row is either loaded
or rejected with the file, the line, the column and what to do.

raw/ is contributed input (docs/security.md). A folder's files are read only through
`orchestration/confine.py` (no link out of the folder, nothing over its size limit), source.yaml
only as plain data (`strict_yaml`), and its text only from the folders `resolve_text` allows.
Whatever is wrong with any file of a folder, optional ones included, rejects that folder alone,
with a reason that names the file; the other folders load.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from orchestration.confine import printable, shown
from orchestration.figures.coverage import ExclusionsProblem, parse_exclusions
from orchestration.figures.provenance import SourceText, parse_text
from orchestration.ingestion import strict_yaml
from orchestration.ingestion.folder_files import (
    EXCLUSIONS_FILE,
    FIGURES_FILE,
    SOURCE_FILE,
    FolderFiles,
    NamedText,
    contract_files,
    files_hash,
    named_text,
    refused_folder,
)
from orchestration.ingestion.python_csv import header_problem, read_figures_file
from orchestration.limits import MAX_ROWS
from orchestration.schemas.figures import (
    SOURCE_COLUMNS,
    SOURCE_REQUIRED,
    SourceSchema,
)
from orchestration.schemas.validation import validate_rows

LINEAGE_COLUMNS = ("source_id", "source_file", "source_row", "file_hash")
REJECTED_COLUMNS = (
    "source_id", "source_file", "source_row", "figure_id", "column_name", "reason", "record",
    "file_hash",
)  # fmt: skip


@dataclass
class Rejection:
    """A row (or a whole file, when source_row is None) that did not load, and why."""

    source_id: str
    source_file: str
    source_row: int | None
    figure_id: str | None
    column_name: str | None
    reason: str
    record: str | None
    file_hash: str


@dataclass
class SourceFolder:
    """One source folder as read from disk, before its figures are checked.

    `header` is set when DuckDB can read figures.csv (the header is fine); then `records` is the
    number of data lines the file should yield. Otherwise `rows` holds what Python's csv module
    read, and `rejections` what could not be read at all.
    """

    source_id: str
    folder: Path
    file_hash: str = ""
    metadata: dict | None = None
    problem: tuple[str, str | None] | None = None  # what is wrong with source.yaml, and where
    header: tuple[str, ...] | None = None
    records: int = 0
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    text: SourceText | None = None
    text_status: str = "no text entry in source.yaml"

    @property
    def figures_path(self) -> str:
        return shown(self.folder / FIGURES_FILE)

    def reject(self, line: int | None, reason: str, record: dict | None = None, column=None):
        self.rejections.append(
            Rejection(
                source_id=self.source_id,
                source_file=self.figures_path if line else shown(self.folder),
                source_row=line,
                figure_id=(record or {}).get("figure_id") or None,
                column_name=column,
                reason=reason,
                record=json.dumps(record, ensure_ascii=False) if record is not None else None,
                file_hash=self.file_hash,
            )
        )

    def reject_all(self, reason: str, column: str | None = None) -> None:
        """A problem of the whole folder: every row it has is rejected with it."""
        if not self.rows and all(r.reason != reason for r in self.rejections):
            self.reject(None, reason, column=column)
        for line, record in self.rows:
            self.reject(line, f"{self.figures_path} line {line}: {reason}", record, column)
        self.rows = []

    def read_with_python(self) -> None:
        """Read figures.csv line by line (the slow, exact path), instead of with DuckDB.

        What the file gives replaces what an earlier reading gave: it is read whole again.
        """
        self.header, self.rows, self.rejections = None, [], []
        read = read_figures_file(self.folder / FIGURES_FILE, self.folder)
        for line, reason, record, column in read.rejections:
            self.reject(line, reason, record, column)
        self.rows = read.rows
        self.problem = self.problem or read.problem
        if self.problem:
            self.reject_all(*self.problem)


def scan_folder(folder: Path) -> SourceFolder:
    """Metadata, hash and the header of figures.csv: what is needed before DuckDB reads it."""
    source = SourceFolder(source_id=printable(folder.name), folder=folder)
    problem = refused_folder(folder)
    if problem:  # nothing in it is read
        source.file_hash = files_hash(FolderFiles(), None, problem)
        source.problem = (problem, None)
        source.reject(None, problem)
        return source
    files = contract_files(folder)
    text = named_text(folder, files)
    source.file_hash = files_hash(files, text.data)
    _read_metadata(source, files, text)
    if source.problem is None:
        _check_exclusions(source, files)
    if source.problem is None and FIGURES_FILE in files.refused:
        source.problem = (files.refused[FIGURES_FILE], None)
    _inspect_figures(source, files)
    if source.problem:  # the folder is rejected whole: no source row, no figure
        source.metadata, source.text = None, None
    return source


def _inspect_figures(source: SourceFolder, files: FolderFiles) -> None:
    """Decide how figures.csv is read: DuckDB when its header is right, else Python."""
    data = files.data[FIGURES_FILE]
    if source.problem or FIGURES_FILE in files.refused or not data:
        source.read_with_python()
        return
    first = data[: data.find(b"\n") + 1]
    try:
        header = [name.strip() for name in next(csv.reader([first.decode("utf-8-sig")]), [])]
    except (UnicodeDecodeError, csv.Error):
        header = []
    records = data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1)
    # Python counts the rows of a file with more lines than a source may have rows exactly.
    if not header or not first or not 1 <= records <= MAX_ROWS or header_problem(header):
        source.read_with_python()
        return
    source.header = tuple(header)
    source.records = records


def _read_metadata(source: SourceFolder, files: FolderFiles, text: NamedText) -> None:
    """source.yaml into `source.metadata`, or `source.problem`; `text` is what the folder's
    hash read of the text it names (folder_files.named_text)."""
    data = files.data[SOURCE_FILE]

    def where() -> str:  # only a problem needs it: shown() resolves the folder
        return shown(source.folder / SOURCE_FILE)

    if SOURCE_FILE in files.refused:
        source.problem = (files.refused[SOURCE_FILE], None)
        return
    if data is None:
        source.problem = (
            f"{where()} is missing: every source folder needs one (raw/README.md)",
            None,
        )
        return
    try:
        parsed = strict_yaml.load(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        source.problem = (f"{where()} is not UTF-8 ({error.reason}): save it as UTF-8", None)
        return
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        source.problem = (f"{where()} is not valid YAML{at}: {problem}", None)
        return
    if not isinstance(parsed, dict):
        source.problem = (
            f"{where()} must be a mapping of fields (source_id: ..., publisher: ...)",
            None,
        )
        return
    unknown = sorted(str(key) for key in parsed if key not in SOURCE_COLUMNS)
    missing = [key for key in SOURCE_REQUIRED if parsed.get(key) in (None, "")]
    if unknown or missing:
        parts = [f"missing field {key!r}" for key in missing]
        parts += [f"unknown field {key!r}" for key in unknown]
        source.problem = (f"{where()}: {'; '.join(parts)} (fields: raw/README.md)", None)
        return
    try:
        metadata = {key: _text(key, parsed.get(key)) for key in SOURCE_COLUMNS}
    except ValueError as error:
        source.problem = (f"{where()}: {error}", None)
        return
    if metadata["source_id"] != source.folder.name:
        source.problem = (
            f"{where()}: source_id {metadata['source_id']!r} does not match its folder name "
            f"{source.folder.name!r}: rename one of them",
            None,
        )
        return
    source.metadata = metadata
    _attach_text(source, text)


def _attach_text(source: SourceFolder, text: NamedText) -> None:
    """The source's text, if this machine has it, for the verbatim quote check: the bytes the
    folder's hash read (an entry the hash cannot name, such as a list, is found nowhere)."""
    entry = source.metadata.get("text")
    if not entry:
        return
    path, data, refusal = text[1:] if text.entry == entry else (None, None, None)
    if refusal is not None:
        source.problem = (f"{shown(source.folder / SOURCE_FILE)}: {refusal}", "text")
        source.text_status = f"{refusal}: the source is rejected"
        return
    if path is None:
        source.text_status = (
            f"text {entry!r} not found (looked beside source.yaml and in SOURCE_TEXT_PATH): "
            "quotes not checked against it"
        )
        return
    try:
        source.text = parse_text(path, data)
    except UnicodeDecodeError as error:
        source.problem = (
            f"{shown(source.folder / SOURCE_FILE)}: text {entry!r} ({shown(path)}) is not UTF-8 "
            f"({error.reason}): "
            "save it as UTF-8",
            "text",
        )
        return
    source.text_status = f"quotes checked against {shown(path)}"


def _check_exclusions(source: SourceFolder, files: FolderFiles) -> None:
    """exclusions.csv is optional, but a broken one rejects its folder like any other file."""
    if EXCLUSIONS_FILE in files.refused:
        source.problem = (files.refused[EXCLUSIONS_FILE], None)
        return
    data = files.data[EXCLUSIONS_FILE]
    if data is None:
        return
    try:
        parse_exclusions(data, shown(source.folder / EXCLUSIONS_FILE))
    except ExclusionsProblem as error:
        source.problem = (str(error), None)


def _text(key: str, value: object) -> str | None:
    """A field of source.yaml as the text the contract checks: scalars, or a list of them."""
    if value is None or value == "":
        return None
    scalar = str | int | float | bool
    if isinstance(value, list) and all(isinstance(item, scalar) for item in value):
        return ",".join(str(item) for item in value)
    if not isinstance(value, scalar):
        raise ValueError(f"field {key!r} holds a {type(value).__name__}: write it as text")
    return str(value)


def validate_sources(folders: list[SourceFolder]) -> pd.DataFrame:
    """source.yaml of each folder through pandera; a failing folder rejects all its figures."""
    with_metadata = [f for f in folders if f.metadata is not None]
    frame = pd.DataFrame([f.metadata for f in with_metadata], columns=list(SOURCE_COLUMNS))
    valid, problems = validate_rows(frame, SourceSchema)
    for index, messages in problems.items():
        folder = with_metadata[index]
        text = "; ".join(message for _, message in messages)
        folder.problem = (f"{shown(folder.folder / SOURCE_FILE)}: {text}", messages[0][0])
        folder.metadata = None
        folder.text = None
        folder.read_with_python()
    valid = valid.assign(
        source_file=[shown(with_metadata[i].folder / SOURCE_FILE) for i in valid.index],
        file_hash=[with_metadata[i].file_hash for i in valid.index],
    )
    return valid.reset_index(drop=True)
