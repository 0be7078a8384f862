"""figures.csv read line by line with Python's csv module: the slow path, exact for a curator.

DuckDB reads a figures.csv whose header is right and that holds one record per line; any other
file is read here, so that what is wrong is said exactly: a wrong header, a stray field, a
quoted line break, a GBK export, more rows than a source may have. Nothing is dropped: each
line is a row or a rejection naming the file, the line, the column and what to do. Line
numbers are those of the file as an editor shows them (the header is line 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestration.confine import Refused, file_in_folder, read_limited, shown
from orchestration.figures.csv_records import MalformedCsv, numbered_records
from orchestration.limits import MAX_FILE_BYTES, MAX_ROWS
from orchestration.schemas.figures import COLUMNS, REQUIRED_COLUMNS


@dataclass
class FiguresFile:
    """What a figures.csv gave: its rows by line, and what could not be a row, and why.

    A rejection is (line, reason, record, column); its line is None for the whole file.
    `problem` is set when the file rejects its whole folder (more rows than a source may have).
    """

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rejections: list[tuple[int | None, str, dict | None, str | None]] = field(default_factory=list)
    problem: tuple[str, str | None] | None = None

    def reject(self, line: int | None, reason: str, record=None, column=None) -> None:
        self.rejections.append((line, reason, record, column))


def read_figures_file(path: Path, folder: Path) -> FiguresFile:
    """Every line of a folder's figures.csv, as a row or a rejection."""
    read = FiguresFile()
    where = shown(path)
    try:
        if not path.exists() and not path.is_symlink():
            read.reject(None, f"{where} is missing: a source folder needs its figures")
            return read
        target = file_in_folder(path, folder)
        data = read_limited(target, MAX_FILE_BYTES[path.name], path.name, path)
    except Refused as error:
        read.reject(None, str(error))
        return read
    except OSError as error:
        read.reject(None, f"{where} cannot be read ({error.strerror})")
        return read
    if not data.strip():
        read.reject(None, f"{where} is empty: write a header line and one row per figure")
        return read
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
        read.reject(
            None,
            f"{where} is not UTF-8 (line {line}, byte 0x{data[error.start]:02x}){hint}: "
            "re-save it as UTF-8",
        )
        return read
    try:
        header, rows = numbered_records(text, where)
    except MalformedCsv as error:
        read.reject(None, str(error))
        return read
    if len(rows) > MAX_ROWS:
        reason = (
            f"{where} has {len(rows):,} rows, over the limit of {MAX_ROWS:,} per source "
            "(raw/README.md): split it into several source folders"
        )
        read.reject(None, reason)
        read.problem = (reason, None)
        return read
    problem = header_problem(header)
    for start, fields in rows:
        record = {name: value.strip() for name, value in zip(header, fields, strict=False)}
        if problem:
            read.reject(start, f"{where} line {start}: {problem[1]}", record, problem[0])
        elif len(fields) != len(header):
            read.reject(
                start,
                f"{where} line {start}: {len(fields)} fields where the header has "
                f"{len(header)}; quote values that contain commas",
                record,
            )
        else:
            read.rows.append((start, record))
    if problem and not rows:
        read.reject(None, f"{where}: {problem[1]}", column=problem[0])
    elif not rows:
        read.reject(None, f"{where} has a header but no figures: add one row per figure")
    return read


def header_problem(header: list[str]) -> tuple[str | None, str] | None:
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
