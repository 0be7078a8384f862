"""How large a source folder may be, and what its text may hold: the limits in one place.

raw/ is contributed input (docs/security.md): a folder must not be able to exhaust the build
machine's memory or time, so every file the pipeline reads from it has a size limit, checked
before the file is read. A folder over a limit is rejected with a line naming the file and
the limit, and the other folders load. The numbers leave wide room for real sources:

- figures.csv: 100,000 rows is ten times the largest folder the benchmarks write (10,000
  figures, benchmarks/generate.py) and a thousand times an article (the seed has 102). 32 MB
  holds 100,000 rows at the seed's 275 bytes a row; the benchmark's rows take 187.
- source.yaml is a dozen short fields (the seed's is 1 KB); 64 KB leaves room for long notes.
- exclusions.csv lists snippets of one text (the seed's is 3 KB).
- An article's text is tens of KB (the seed's is 30 KB); 5 MB is a book.
- A field of text (a quote, a note, a title) is a sentence or a paragraph; 2,000 characters
  is a page. A row with a longer field is rejected, not its source.

A field may hold no control character (NUL, escape sequences that rewrite a terminal showing a
log, ...) but tab and line breaks, which a note may hold. The pattern is written so that
Python's `re` and DuckDB's RE2 read it alike.
"""

from __future__ import annotations

import re

KB = 1024
MB = 1024 * KB

# Bytes, per file. "text" is the article text that source.yaml names.
MAX_FILE_BYTES = {
    "source.yaml": 64 * KB,
    "figures.csv": 32 * MB,
    "exclusions.csv": 1 * MB,
    "text": 5 * MB,
}
MAX_ROWS = 100_000  # rows of figures.csv per source
MAX_FIELD_CHARS = 2_000  # characters per field of figures.csv, source.yaml, exclusions.csv


# Unicode's control characters (category Cc) but tab, line feed and carriage return.
CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_CONTROL = re.compile(CONTROL_PATTERN)


def control_character(text: str) -> str | None:
    """The first control character a field may not hold, or None."""
    found = _CONTROL.search(text)
    return found.group() if found else None


def control_message(column: str, character: str) -> str:
    """What a row with a control character in a field is told (pandera, SQL, exclusions)."""
    return f"{column} contains a control character (U+{ord(character):04X}): remove it"


def length_message(column: str, length: int) -> str:
    """What a row with an overlong field is told."""
    return (
        f"{column} is {length} characters long, over the limit of {MAX_FIELD_CHARS:,} "
        "(raw/README.md): shorten it"
    )


def size_text(size: int) -> str:
    """A byte count as a person reads it: 64 KB, 32 MB, 1,234 bytes."""
    for unit, name in ((MB, "MB"), (KB, "KB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size:,} bytes"
