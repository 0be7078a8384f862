"""Read CSV text into records numbered by the line each starts on, as an editor shows it.

figures.csv and exclusions.csv are read the same way, so that a message names the same line
for both: the header is line 1, a record with a quoted line break is numbered by its first
line, and blank records are skipped (an editor's trailing empty lines are no rows).
"""

from __future__ import annotations

import csv
import io


class MalformedCsv(ValueError):
    """Text Python's csv module cannot parse; the message names the file and the line."""


def numbered_records(text: str, where: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (names stripped) and each non-blank record with the line it starts on.

    Raises MalformedCsv naming `where` and the line at the first fault (an unclosed quote, a
    stray quote inside an unquoted field).
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    try:
        header = [name.strip() for name in next(reader, [])]
        line = reader.line_num
        for fields in reader:
            start, line = line + 1, reader.line_num
            if any(value.strip() for value in fields):
                records.append((start, fields))
    except csv.Error as error:
        raise MalformedCsv(
            f"{where}: malformed CSV at line {reader.line_num + 1}: {error}"
        ) from error
    return header, records
