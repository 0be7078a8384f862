"""Read every raw/<source_id>/ folder into typed frames, and every broken row into a rejection.

Pure Python (pandas, pandera, PyYAML), no Dagster and no DuckDB, so each failure a curator can
cause is unit-tested here. Nothing is dropped: a row is either in `figures` or in `rejected`,
with the file, the line, the column and what to do about it. Line numbers are those of the
file as an editor shows them (the header is line 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import yaml

from orchestration.figures.provenance import SourceText, load_text, quote_problems, resolve_text
from orchestration.paths import display
from orchestration.schemas.figures import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    SOURCE_COLUMNS,
    SOURCE_REQUIRED,
    FigureSchema,
    SourceSchema,
)
from orchestration.schemas.validation import validate_rows

SOURCE_FILE = "source.yaml"
FIGURES_FILE = "figures.csv"
EXCLUSIONS_FILE = "exclusions.csv"
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
    """One source folder as read from disk, before validation."""

    source_id: str
    folder: Path
    file_hash: str
    metadata: dict | None = None
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    text: SourceText | None = None
    text_status: str = "no text entry in source.yaml"

    @property
    def figures_path(self) -> str:
        return display(self.folder / FIGURES_FILE)

    def reject(self, line: int | None, reason: str, record: dict | None = None, column=None):
        self.rejections.append(
            Rejection(
                source_id=self.source_id,
                source_file=self.figures_path if line else display(self.folder),
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
        if not self.rows:
            self.reject(None, reason, column=column)
        for line, record in self.rows:
            self.reject(line, reason, record, column)
        self.rows = []


@dataclass
class Batch:
    """Everything raw/ holds, split into what loads and what does not."""

    sources: pd.DataFrame
    figures: pd.DataFrame
    rejected: pd.DataFrame
    file_hashes: dict[str, str]
    text_status: dict[str, str] = field(default_factory=dict)


def discover(raw_dir: Path) -> list[Path]:
    """Source folders: every folder under raw/ whose name does not start with '.' or '_'."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir} is not a folder: set RAW_DIR or create raw/")
    return sorted(p for p in raw_dir.iterdir() if p.is_dir() and p.name[0] not in "._")


def folder_hash(folder: Path) -> str:
    """sha256 over the folder's contract files, to tell an unchanged source from a changed one."""
    digest = hashlib.sha256()
    for name in (SOURCE_FILE, FIGURES_FILE, EXCLUSIONS_FILE):
        path = folder / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"\0missing")
    return digest.hexdigest()


def read_folder(folder: Path) -> SourceFolder:
    """Read source.yaml and figures.csv of one folder; structural problems become rejections."""
    source = SourceFolder(source_id=folder.name, folder=folder, file_hash=folder_hash(folder))
    _read_figures(source)
    _read_metadata(source)
    return source


def _read_metadata(source: SourceFolder) -> None:
    path = source.folder / SOURCE_FILE
    where = display(path)
    if not path.is_file():
        source.reject_all(f"{where} is missing: every source folder needs one (raw/README.md)")
        return
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        source.reject_all(f"{where} is not UTF-8 ({error.reason}): save it as UTF-8")
        return
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        source.reject_all(f"{where} is not valid YAML{at}: {problem}")
        return
    if not isinstance(data, dict):
        source.reject_all(f"{where} must be a mapping of fields (source_id: ..., publisher: ...)")
        return
    unknown = sorted(set(data) - set(SOURCE_COLUMNS))
    missing = [key for key in SOURCE_REQUIRED if data.get(key) in (None, "")]
    if unknown or missing:
        parts = [f"missing field {key!r}" for key in missing]
        parts += [f"unknown field {key!r}" for key in unknown]
        source.reject_all(f"{where}: {'; '.join(parts)} (fields: raw/README.md)")
        return
    if str(data["source_id"]) != source.folder.name:
        source.reject_all(
            f"{where}: source_id {data['source_id']!r} does not match its folder name "
            f"{source.folder.name!r}: rename one of them"
        )
        return
    source.metadata = {key: _text(data.get(key)) for key in SOURCE_COLUMNS}
    _attach_text(source)


def _attach_text(source: SourceFolder) -> None:
    """Find the source's text, if this machine has it, for the verbatim quote check."""
    entry = source.metadata.get("text")
    if not entry:
        return
    path = resolve_text(entry, source.folder)
    if path is None:
        source.text_status = (
            f"text {entry!r} not found (looked beside source.yaml and in SOURCE_TEXT_PATH): "
            "quotes not checked against it"
        )
        return
    try:
        source.text = load_text(path)
    except (OSError, UnicodeDecodeError) as error:
        source.text_status = f"text {display(path)} unreadable ({error}): quotes not checked"
        return
    source.text_status = f"quotes checked against {display(path)}"


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _read_figures(source: SourceFolder) -> None:
    path = source.folder / FIGURES_FILE
    where = display(path)
    if not path.is_file():
        source.reject(None, f"{where} is missing: a source folder needs its figures")
        return
    data = path.read_bytes()
    if not data.strip():
        source.reject(None, f"{where} is empty: write a header line and one row per figure")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = "; it looks like GBK/GB18030 (a Chinese Excel export)"
        except UnicodeDecodeError:
            pass
        source.reject(
            None,
            f"{where} is not UTF-8 (line {line}, byte 0x{data[error.start]:02x}){hint}: "
            "re-save it as UTF-8",
        )
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        rows = []
        line = reader.line_num
        for fields in reader:
            start, line = line + 1, reader.line_num
            if any(value.strip() for value in fields):
                rows.append((start, fields))
    except csv.Error as error:
        source.reject(None, f"{where}: malformed CSV at line {reader.line_num + 1}: {error}")
        return
    problem = _header_problem(header)
    for start, fields in rows:
        record = {name: value.strip() for name, value in zip(header, fields, strict=False)}
        if problem:
            source.reject(start, f"{where} line {start}: {problem[1]}", record, problem[0])
        elif len(fields) != len(header):
            source.reject(
                start,
                f"{where} line {start}: {len(fields)} fields where the header has "
                f"{len(header)}; quote values that contain commas",
                record,
            )
        else:
            source.rows.append((start, record))
    if problem and not rows:
        source.reject(None, f"{where}: {problem[1]}", column=problem[0])
    elif not rows:
        source.reject(None, f"{where} has a header but no figures: add one row per figure")


def _header_problem(header: list[str]) -> tuple[str | None, str] | None:
    """What is wrong with a header, as (column, message), or None."""
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header[0])
        return None, f"the header is separated by {sep!r}: figures.csv must be comma-separated"
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        return duplicated[0], f"column {duplicated[0]!r} appears twice in the header"
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        return missing[0], f"missing column {names} in the header (columns: raw/README.md)"
    extra = [name for name in header if name not in COLUMNS]
    if extra:
        names = ", ".join(repr(name) for name in extra)
        return extra[0], f"unknown column {names} in the header: remove it (columns: raw/README.md)"
    return None


def read_raw(raw_dir: Path) -> Batch:
    """Read and validate every source folder; the valid rows and every rejection, with reasons."""
    folders = [read_folder(folder) for folder in discover(raw_dir)]
    sources = _validate_sources(folders)
    _reject_duplicate_ids_across_sources(folders)
    figures = _validate_figures(folders)
    rejected = [r.__dict__ for folder in folders for r in folder.rejections]
    return Batch(
        sources=sources,
        figures=figures,
        rejected=pd.DataFrame(rejected, columns=list(REJECTED_COLUMNS)),
        file_hashes={folder.source_id: folder.file_hash for folder in folders},
        text_status={folder.source_id: folder.text_status for folder in folders},
    )


def _validate_sources(folders: list[SourceFolder]) -> pd.DataFrame:
    with_metadata = [f for f in folders if f.metadata is not None]
    frame = pd.DataFrame([f.metadata for f in with_metadata], columns=list(SOURCE_COLUMNS))
    valid, problems = validate_rows(frame, SourceSchema)
    for index, messages in problems.items():
        folder = with_metadata[index]
        text = "; ".join(message for _, message in messages)
        folder.reject_all(f"{display(folder.folder / SOURCE_FILE)}: {text}", messages[0][0])
        folder.metadata = None
    valid = valid.assign(
        source_file=[display(with_metadata[i].folder / SOURCE_FILE) for i in valid.index],
        file_hash=[with_metadata[i].file_hash for i in valid.index],
    )
    return valid.reset_index(drop=True)


def _reject_duplicate_ids_across_sources(folders: list[SourceFolder]) -> None:
    """A figure id already used by an earlier source (in folder order) is rejected here."""
    owner: dict[str, tuple[str, int]] = {}
    for folder in folders:
        first_here = {}
        for line, record in folder.rows:
            first_here.setdefault(record.get("figure_id", ""), line)
        kept = []
        for line, record in folder.rows:
            figure_id = record.get("figure_id", "")
            if figure_id in owner:
                other, other_line = owner[figure_id]
                folder.reject(
                    line,
                    f"figure_id {figure_id!r} is already used by raw/{other}/figures.csv line "
                    f"{other_line}: ids must be unique across sources",
                    record,
                    "figure_id",
                )
            else:
                kept.append((line, record))
        folder.rows = kept
        for figure_id, line in first_here.items():
            owner.setdefault(figure_id, (folder.source_id, line))


def _validate_figures(folders: list[SourceFolder]) -> pd.DataFrame:
    entries = [(folder, line, record) for folder in folders for line, record in folder.rows]
    frame = pd.DataFrame(
        [{name: record.get(name) or None for name in COLUMNS} for _, _, record in entries],
        columns=list(COLUMNS),
    )
    valid, problems = validate_rows(frame, FigureSchema)
    for index in valid.index:
        folder, _, record = entries[index]
        if folder.text is None:
            continue
        for column, message in quote_problems(
            folder.text, record.get("quote_zh"), record.get("quote_en")
        ):
            figure = f"figure {record.get('figure_id')}: "
            problems.setdefault(index, []).append((column, figure + message))
    valid = valid.drop(index=[i for i in valid.index if i in problems])
    for index, messages in problems.items():
        folder, line, record = entries[index]
        text = "; ".join(message for _, message in messages)
        column = messages[0][0]
        folder.reject(line, f"{folder.figures_path} line {line}: {text}", record, column)
    lineage = [entries[i] for i in valid.index]
    valid = valid.assign(
        source_id=[folder.source_id for folder, _, _ in lineage],
        source_file=[folder.figures_path for folder, _, _ in lineage],
        source_row=[line for _, line, _ in lineage],
        file_hash=[folder.file_hash for folder, _, _ in lineage],
    )
    for column in OPTIONAL_COLUMNS:
        valid[column] = valid[column].astype(object)
    return valid.reset_index(drop=True)
