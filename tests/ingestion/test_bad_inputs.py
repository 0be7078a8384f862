"""Bad input, case by case, through the real loader into a real DuckDB file.

Each case breaks one source folder (`b-case`) and states the exact outcome: which lines of the
broken file load, which are rejected, with which column and which words, whether the source
itself loads. Every case is loaded in one raw/ with two good sources (`a-good`, `c-good`), as a
quarter's raw/ holds many folders, each case under a name of its own (`b-c003`, its ids
`s03-...`: the same lengths as `b-case` and `syn-`, so sizes and positions in the messages
stay): whatever is wrong with one folder must reject that folder alone, and the good sources load
in full with the right line numbers. Nothing is lost: every data line of every file is in
raw.figures or raw.figures_rejected, unless the file is rejected whole (a link out of raw/, over
a limit).

raw/ is contributed input (docs/security.md), so the table also holds every way a folder may try
to read the build machine's files (a text named by an absolute path, `..` or a link, a link as
figures.csv, the folder itself a link), to exhaust it (YAML aliases, files and fields over their
limits) or to take the other sources down (a broken optional file, a date that does not exist).
Beside raw/ lies a folder standing for the build machine, with a file whose marker must be stored
nowhere, nor the first line of /etc/passwd.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.confine import printable
from orchestration.ingestion import contract_check
from orchestration.ingestion.assets import (
    figures_match_contract,
    raw_tables,
    sources_match_contract,
)
from orchestration.ingestion.load import load_raw
from orchestration.locking import RunLock
from orchestration.paths import RAW_DIR_ENV
from tests.leaks import in_database
from tests.sources import (
    FIXTURE,
    GOOD_CSV,
    GOOD_ROWS,
    HEADER,
    drop_column,
    make_source,
    replace_field,
    with_rows,
)

CASE = "b-case"
GOOD_SOURCES = {"a-good": "agood-", "c-good": "cgood-"}


# Beside raw/: a folder that stands for the build machine, with a file that no table may hold.
OUTSIDE = "build-machine"
OUTSIDE_MARKER = "outside-raw-7d1c0e"
OUTSIDE_TEXT = f"{OUTSIDE_MARKER} 1000 亿元\n{OUTSIDE_MARKER},tencent,2023,100000000000\n"
ETC_PASSWD = Path("/etc/passwd")
PASSWD_LINE = ETC_PASSWD.read_text().splitlines()[0] if ETC_PASSWD.is_file() else None


@dataclass(frozen=True)
class Case:
    """A broken b-case folder and what must come of it."""

    name: str
    figures: str | bytes | None = GOOD_CSV
    yaml: str | None = None  # `{outside}` stands for the folder beside raw/
    loaded: tuple[int, ...] = (2, 3, 4)  # lines of b-case/figures.csv that load
    # (line or None for the whole file, column or None, words the reason contains)
    rejected: tuple[tuple[int | None, str | None, str], ...] = ()
    source_loads: bool = True  # b-case is in raw.sources
    exclusions: str | bytes | None = None
    # more files or links in the folder: setup(folder, outside folder)
    setup: Callable[[Path, Path], None] | None = None
    folder: str = CASE
    lines_kept: bool = True  # False: the file is rejected whole, not line by line


def link(name: str, target: str | Path) -> Callable[[Path, Path], None]:
    """A setup that makes `name` in the folder a link to target (`{outside}` allowed)."""

    def setup(folder: Path, outside: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(str(target).format(outside=outside))

    return setup


def sparse(name: str, size: int) -> Callable[[Path, Path], None]:
    """A setup that makes `name` a file of `size` bytes (sparse: nothing is written)."""

    def setup(folder: Path, outside: Path) -> None:
        with (folder / name).open("wb") as handle:
            handle.truncate(size)

    return setup


def folder_is_a_link(folder: Path, outside: Path) -> None:
    """The source folder moved beside raw/ (with the marker in its notes), a link left in raw/."""
    moved = outside / folder.name
    folder.rename(moved)
    notes = f"notes: {OUTSIDE_MARKER}\n"
    text = SOURCE_YAML_CASE.replace(CASE, folder.name) + notes
    (moved / "source.yaml").write_text(text, encoding="utf-8")
    folder.symlink_to(moved)


def fifo(folder: Path, outside: Path) -> None:
    (folder / "figures.csv").unlink()
    os.mkfifo(folder / "figures.csv")


def with_yaml(*lines: str, drop: str | None = None) -> str:
    """b-case's source.yaml with lines added (and a field dropped)."""
    kept = [line for line in SOURCE_YAML_CASE.splitlines() if not (drop and line.startswith(drop))]
    return "\n".join([*kept, *lines]) + "\n"


def row(index: int, column: str, value: str) -> str:
    return with_rows(*[replace_field(r, column, value) if i == index else r for i, r in
                       enumerate(GOOD_ROWS)])  # fmt: skip


SOURCE_YAML = (FIXTURE / "source.yaml").read_text(encoding="utf-8")
SOURCE_YAML_CASE = SOURCE_YAML.replace("synthetic-2025-01-01", CASE)
ALL_REJECTED = (2, 3, 4)
TEXT_REFUSED = "source.yaml: text "
# a billion laughs: each level repeats the one before nine times, 9**9 "lol" from 750 bytes
ALIASES = (
    "notes: [&a [lol, lol, lol, lol, lol, lol, lol, lol, lol], "
    + ", ".join(
        f"&{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]"
)


def every_line(column: str | None, words: str) -> tuple[tuple[int, str | None, str], ...]:
    """The same reason for each of b-case's three rows: a problem of the whole folder."""
    return tuple((line, column, words) for line in ALL_REJECTED)


def whole_file(words: str) -> dict:
    """A folder rejected as one: one rejection naming the file, nothing loaded or kept by line."""
    return {"loaded": (), "rejected": ((None, None, words),), "source_loads": False,
            "lines_kept": False}  # fmt: skip


def whole_folder(column: str | None, words: str) -> dict:
    """A folder rejected for one of its files: every row with the reason, no source row."""
    return {"loaded": (), "rejected": every_line(column, words), "source_loads": False}


CASES = [
    Case("good folder"),
    Case("empty file", figures="", loaded=(), rejected=((None, None, "figures.csv is empty"),)),
    Case(
        "header only",
        figures=HEADER + "\n",
        loaded=(),
        rejected=((None, None, "has a header but no figures"),),
    ),
    Case(
        "missing column",
        figures=drop_column(GOOD_CSV, "unit"),
        loaded=(),
        rejected=tuple((line, "unit", "missing column 'unit' in the header") for line in ALL_REJECTED),
    ),
    Case(
        "extra column",
        figures=with_rows(*[r + ",x" for r in GOOD_ROWS]).replace(",note", ",note,colour"),
        loaded=(),
        rejected=tuple((line, "colour", "unknown column 'colour'") for line in ALL_REJECTED),
    ),
    Case(
        "wrong delimiter",
        figures=GOOD_CSV.replace(",", ";"),
        loaded=(),
        rejected=tuple((line, None, "header is separated by ';'") for line in ALL_REJECTED),
    ),
    Case("utf-8 with bom", figures=b"\xef\xbb\xbf" + GOOD_CSV.encode("utf-8")),
    Case("windows line endings", figures=GOOD_CSV.replace("\n", "\r\n").encode("utf-8")),
    Case(
        "gbk encoding",
        figures=GOOD_CSV.encode("gbk"),
        loaded=(),
        rejected=((None, None, "is not UTF-8 (line 2, byte 0xd3); it looks like GBK"),),
    ),
    Case(
        "non-numeric value",
        figures=row(0, "value", "1000亿"),
        loaded=(3, 4),
        rejected=((2, "value", "value '1000亿' is not a plain number"),),
    ),
    Case(
        "infinite value",
        figures=row(0, "value", "inf"),
        loaded=(3, 4),
        rejected=((2, "value", "value 'inf' is not a plain number"),),
    ),
    Case(
        "a value too large to be finite",
        figures=row(0, "value", "1" + "0" * 400),
        loaded=(3, 4),
        rejected=((2, None, "is not a finite number"),),
    ),
    Case(
        "negative revenue",
        figures=row(0, "value", "-100000000000"),
        loaded=(3, 4),
        rejected=((2, None, "value '-100000000000' is out of range for unit 'CNY'"),),
    ),
    Case(
        "percent over 1000",
        figures=row(1, "value", "5000"),
        loaded=(2, 4),
        rejected=((3, None, "value '5000' is out of range for unit 'percent'"),),
    ),
    Case(
        "unknown company",
        figures=row(0, "company", "bytedance"),
        loaded=(3, 4),
        rejected=((2, "company", "company 'bytedance' is not one of the allowed values"),),
    ),
    Case(
        "unknown unit",
        figures=row(0, "unit", "USD"),
        loaded=(3, 4),
        rejected=((2, "unit", "unit 'USD' is not one of the allowed values"),),
    ),
    Case(
        "unit does not fit metric",
        figures=row(2, "unit", "users"),
        loaded=(2, 3),
        rejected=((4, None, "does not fit metric 'rides' with measure 'level': expected 'rides'"),),
    ),
    Case(
        "impossible date",
        figures=row(0, "period_start", "2023-02-30"),
        loaded=(3, 4),
        rejected=((2, "period_start", "period_start '2023-02-30' is not a date"),),
    ),
    Case(
        "quote does not state the value",
        figures=row(0, "value", "100"),
        loaded=(3, 4),
        rejected=((2, None, "quote_zh '游戏收入 1000 亿元' does not state value 100 CNY"),),
    ),
    Case(
        "duplicate id within the source",
        figures=with_rows(*GOOD_ROWS, GOOD_ROWS[0]),
        loaded=(3, 4),
        rejected=(
            (2, "figure_id", "figure_id 'syn-001' appears more than once"),
            (5, "figure_id", "figure_id 'syn-001' appears more than once"),
        ),
    ),
    Case(
        "duplicate id across sources",
        figures=row(0, "figure_id", "agood-001"),
        loaded=(3, 4),
        rejected=(
            (2, "figure_id", "'agood-001' is already used by raw/a-good/figures.csv line 2"),
        ),
    ),
    Case(
        "an extra field on one line",
        figures=with_rows(GOOD_ROWS[0], GOOD_ROWS[1] + ",stray", GOOD_ROWS[2]),
        loaded=(2, 4),
        rejected=((3, None, "19 fields where the header has 18"),),
    ),
    Case(
        "a quoted line break, then a bad row",
        figures=with_rows(
            replace_field(GOOD_ROWS[0], "note", '"two\nlines"'),
            GOOD_ROWS[1],
            replace_field(GOOD_ROWS[2], "company", "nobody"),
        ),
        loaded=(2, 4),
        rejected=((5, "company", "company 'nobody'"),),
    ),
    Case(
        "a blank line, then a bad row",
        figures=HEADER + "\n" + GOOD_ROWS[0] + "\n\n" + GOOD_ROWS[1] + "\n"
        + replace_field(GOOD_ROWS[2], "scope", "whole") + "\n",
        loaded=(2, 4),
        rejected=((5, "scope", "scope 'whole' is not one of the allowed values"),),
    ),  # fmt: skip
    Case(
        "malformed source.yaml",
        yaml="source_id: [unclosed\n",
        loaded=(),
        rejected=tuple((line, None, "source.yaml is not valid YAML at line") for line in ALL_REJECTED),
        source_loads=False,
    ),
    Case(
        "source.yaml without a publisher",
        yaml=SOURCE_YAML.replace("synthetic-2025-01-01", CASE).replace("publisher:", "# publisher:"),
        loaded=(),
        rejected=tuple((line, None, "missing field 'publisher'") for line in ALL_REJECTED),
        source_loads=False,
    ),
    Case(
        "no figures.csv",
        figures=None,
        loaded=(),
        rejected=((None, None, "b-case/figures.csv is missing"),),
    ),
    # -- nothing from outside raw/: a source reads only its folder and the text folders --
    Case("text is /etc/passwd", yaml=with_yaml("text: /etc/passwd", drop="text:"), **whole_folder("text", TEXT_REFUSED + "'/etc/passwd' is an absolute path")),
    Case("text is /proc/self/environ", yaml=with_yaml("text: /proc/self/environ", drop="text:"), **whole_folder("text", TEXT_REFUSED + "'/proc/self/environ' is an absolute path")),
    Case("text is a file beside raw/, by its absolute path", yaml=with_yaml("text: {outside}/secret.txt", drop="text:"), **whole_folder("text", "secret.txt' is an absolute path")),
    Case("text climbs out of raw/ with ..", yaml=with_yaml("text: ../../../../etc/hostname", drop="text:"), **whole_folder("text", TEXT_REFUSED + "'../../../../etc/hostname' leads outside the folders a text may come from")),
    Case("text climbs out to a file beside raw/", yaml=with_yaml(f"text: ../../{OUTSIDE}/secret.txt", drop="text:"), **whole_folder("text", TEXT_REFUSED + f"'../../{OUTSIDE}/secret.txt' leads outside")),
    # the same words whether or not a file is there: a source cannot probe the machine
    Case("text climbs out to a file that does not exist", yaml=with_yaml(f"text: ../../{OUTSIDE}/missing.txt", drop="text:"), **whole_folder("text", TEXT_REFUSED + f"'../../{OUTSIDE}/missing.txt' leads outside")),
    Case("text is a link to a file beside raw/", setup=link("article.txt", "{outside}/secret.txt"), **whole_folder("text", TEXT_REFUSED + "'article.txt' is a link to a place outside")),
    Case("figures.csv is a link to /etc/passwd", setup=link("figures.csv", ETC_PASSWD), **whole_file("b-case/figures.csv is a link to a file outside")),
    Case("figures.csv is a link to a file beside raw/", setup=link("figures.csv", "{outside}/secret.txt"), **whole_file("b-case/figures.csv is a link to a file outside")),
    Case("figures.csv is a link to another source's", setup=link("figures.csv", "../a-good/figures.csv"), **whole_file("b-case/figures.csv is a link to a file outside")),
    Case("source.yaml is a link to a file beside raw/", setup=link("source.yaml", "{outside}/secret.txt"), **whole_folder(None, "b-case/source.yaml is a link to a file outside")),
    Case("exclusions.csv is a link to a file beside raw/", setup=link("exclusions.csv", "{outside}/secret.txt"), **whole_folder(None, "b-case/exclusions.csv is a link to a file outside")),
    Case("the folder is a link to a folder beside raw/", setup=folder_is_a_link, **whole_file("b-case is a link to a folder outside")),
    Case("figures.csv is a FIFO", setup=fifo, **whole_file("b-case/figures.csv is not a regular file")),
    Case("figures.csv is a link to itself", setup=link("figures.csv", "figures.csv"), **whole_file("b-case/figures.csv is a link that leads to itself")),
    Case("the text is a link to itself", setup=link("article.txt", "article.txt"), **whole_folder("text", TEXT_REFUSED + "'article.txt' is a link that leads to itself")),
    # -- limits: a folder over one is rejected, the others load --
    Case("YAML aliases (a billion laughs)", yaml=with_yaml(ALIASES), **whole_folder(None, "source.yaml is not valid YAML at line 11, column 9: an anchor (&a) is not allowed")),
    Case("a key twice in source.yaml", yaml=with_yaml('publisher: "Someone else"'), **whole_folder(None, "source.yaml is not valid YAML at line 11, column 1: the key 'publisher' appears twice (first at line 5)")),
    Case("a YAML tag", yaml=with_yaml("notes: !!binary aGVsbG8="), **whole_folder(None, "a tag (tag:yaml.org,2002:binary) is not allowed")),
    Case("a mapping for a field of text", yaml=with_yaml("notes: {a: 1}"), **whole_folder(None, "field 'notes' holds a dict: write it as text")),
    Case("source.yaml over 64 KB", yaml=with_yaml("notes: " + "x" * 70_000), **whole_folder(None, "b-case/source.yaml is 70,372 bytes, over the limit of 64 KB for source.yaml")),
    Case("figures.csv over 32 MB", setup=sparse("figures.csv", 32 * 1024 * 1024 + 1), **whole_file("b-case/figures.csv is 33,554,433 bytes, over the limit of 32 MB for figures.csv")),
    Case("figures.csv with more rows than a source may have", figures=HEADER + "\n" + (GOOD_ROWS[0] + "\n") * 100_001, **whole_file("b-case/figures.csv has 100,001 rows, over the limit of 100,000 per source")),
    Case("exclusions.csv over 1 MB", setup=sparse("exclusions.csv", 1024 * 1024 + 1), **whole_folder(None, "b-case/exclusions.csv is 1,048,577 bytes, over the limit of 1 MB")),
    Case("the article text over 5 MB", setup=sparse("article.txt", 5 * 1024 * 1024 + 1), **whole_folder("text", "b-case/article.txt is 5,242,881 bytes, over the limit of 5 MB for an article text")),
    Case("a field of figures.csv over 2,000 characters", figures=row(0, "note", "x" * 2001), loaded=(3, 4), rejected=((2, "note", "note is 2001 characters long, over the limit of 2,000"),)),
    Case("a field of source.yaml over 2,000 characters", yaml=with_yaml("notes: " + "x" * 2001), **whole_folder("notes", "notes is 2001 characters long, over the limit of 2,000")),
    # -- isolation: whatever is wrong with one folder rejects that folder alone --
    Case("exclusions.csv without the language column", exclusions="quote,reason\nx,y\n", **whole_folder(None, "b-case/exclusions.csv: missing column 'language' in the header")),
    Case("exclusions.csv with an unknown language", exclusions="language,quote,reason\nfr,x,y\n", **whole_folder(None, "b-case/exclusions.csv line 2: language must be zh or en")),
    Case("exclusions.csv not UTF-8", exclusions="language,quote,reason\nzh,游戏,y\n".encode("gbk"), **whole_folder(None, "b-case/exclusions.csv is not UTF-8 (line 2")),
    Case("exclusions.csv with a stray field", exclusions="language,quote,reason\nzh,x,y,z\n", **whole_folder(None, "b-case/exclusions.csv line 2: 4 fields where the header has 3")),
    Case("the article text not UTF-8", setup=lambda folder, outside: (folder / "article.txt").write_bytes("游戏".encode("gbk")), **whole_folder("text", "text 'article.txt' (")),
    Case("a publication date that does not exist", yaml=with_yaml("publication_date: 2025-02-30", drop="publication_date"), **whole_folder("publication_date", "publication_date '2025-02-30' is not a date (write YYYY-MM-DD)")),
    # -- strictness: the contract's formats are whole-string matches --
    Case("a value with digit separators", figures=row(0, "value", "1000_0000_0000"), loaded=(3, 4), rejected=((2, "value", "value '1000_0000_0000' is not a plain number"),)),
    Case("a value with an exponent", figures=row(0, "value", "1e11"), loaded=(3, 4), rejected=((2, "value", "value '1e11' is not a plain number"),)),
    Case("a value that is not a number", figures=row(0, "value", "nan"), loaded=(3, 4), rejected=((2, "value", "value 'nan' is not a plain number"),)),
    Case("a date with slashes", figures=row(0, "period_start", "2023/01/01"), loaded=(3, 4), rejected=((2, "period_start", "period_start '2023/01/01' is not a date (write YYYY-MM-DD)"),)),
    Case("a date with a time", figures=row(0, "period_end", "2023-12-31T00:00"), loaded=(3, 4), rejected=((2, "period_end", "period_end '2023-12-31T00:00' is not a date"),)),
    Case("a date without leading zeros", figures=row(0, "period_start", "2023-1-1"), loaded=(3, 4), rejected=((2, "period_start", "period_start '2023-1-1' is not a date"),)),
    Case("a publication date with slashes", yaml=with_yaml("publication_date: 2024/01/01", drop="publication_date"), **whole_folder("publication_date", "publication_date '2024/01/01' is not a date")),
    Case("a publication date with a time", yaml=with_yaml("publication_date: 2024-12-31T00:00", drop="publication_date"), **whole_folder("publication_date", "publication_date '2024-12-31T00:00' is not a date")),
    Case("a publication date without leading zeros", yaml=with_yaml("publication_date: 2023-1-1", drop="publication_date"), **whole_folder("publication_date", "publication_date '2023-1-1' is not a date")),
    Case("a folder name that is not UTF-8", folder=CASE + "\udcff", yaml=SOURCE_YAML_CASE, **whole_file("the folder 'b-case\\\\xff' in ")),
    Case("a folder name ending in a line break", folder=CASE + "\n", yaml=with_yaml('source_id: "b-case\\n"', drop="source_id"), **whole_file("the folder 'b-case\\n' in ")),
    Case("a NUL byte in a quote", figures=row(0, "quote_zh", "游戏收入 1000\x00 亿元"), loaded=(3, 4), rejected=((2, "quote_zh", "quote_zh contains a control character (U+0000): remove it"),)),
    Case("a terminal escape in a note", figures=row(0, "note", "\x1b[2Jcleared"), loaded=(3, 4), rejected=((2, "note", "note contains a control character (U+001B)"),)),
    Case("a control character in source.yaml", yaml=with_yaml('notes: "bell\\a"'), **whole_folder("notes", "notes contains a control character (U+0007)")),
]  # fmt: skip


def build(raw: Path, *cases: Case) -> Path:
    """raw/ with the good sources and the cases' folders; the folder beside it (the outside)."""
    outside = raw.parent / OUTSIDE
    outside.mkdir(parents=True)
    (outside / "secret.txt").write_text(OUTSIDE_TEXT, encoding="utf-8")
    for name, prefix in GOOD_SOURCES.items():
        make_source(raw, name, figures=GOOD_CSV.replace("syn-", prefix))
    for case in cases:
        _add_case(raw, outside, case)
    return outside


def _add_case(raw: Path, outside: Path, case: Case) -> None:
    yaml = case.yaml.replace("{outside}", str(outside)) if case.yaml is not None else None
    if yaml is None and case.folder != CASE:
        yaml = SOURCE_YAML.replace("synthetic-2025-01-01", case.folder)
    folder = make_source(raw, case.folder, figures=case.figures, yaml=yaml)
    if case.exclusions is not None:
        data = case.exclusions
        (folder / "exclusions.csv").write_bytes(data if isinstance(data, bytes) else data.encode())
    if case.setup is not None:
        case.setup(folder, outside)


def placed(case: Case, index: int) -> Case:
    """The case under a folder name and figure ids of its own (`b-c003`, `s03-`), beside the
    others: the same lengths as `b-case` and `syn-`, so sizes and positions stay as stated."""
    name, prefix = f"b-c{index:03d}", f"s{index:02d}-"
    assert len(name) == len(CASE) and len(prefix) == len("syn-")

    def own(value):
        if isinstance(value, bytes):
            return value.replace(CASE.encode(), name.encode()).replace(b"syn-", prefix.encode())
        if isinstance(value, str):
            return value.replace(CASE, name).replace("syn-", prefix)
        return value

    return replace(
        case,
        figures=own(case.figures),
        yaml=own(case.yaml),
        rejected=tuple((line, column, own(words)) for line, column, words in case.rejected),
        folder=own(case.folder),
    )


PLACED = [placed(case, index) for index, case in enumerate(CASES)]


def data_lines(case: Case) -> set[int]:
    """Lines of b-case/figures.csv where a record starts, read from the file itself: what must
    be loaded or rejected line by line (none when the file cannot be read as CSV at all, or is
    rejected as a whole)."""
    if not case.lines_kept:
        return set()
    data = case.figures.encode() if isinstance(case.figures, str) else case.figures
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), strict=True)
        next(reader)
        starts, line = set(), reader.line_num
        for fields in reader:
            if any(value.strip() for value in fields):
                starts.add(line + 1)
            line = reader.line_num
    except (AttributeError, UnicodeDecodeError, StopIteration, csv.Error):
        return set()  # no file, not UTF-8, empty or malformed: rejected as a whole
    return starts


@dataclass(frozen=True)
class Loaded:
    """What one load of every case (PLACED) stored."""

    figures: list[tuple[str, int, str]]  # source_id, source_row, figure_id
    rejected: dict[str, list[tuple[int | None, str | None, str, str]]]  # by source_id
    sources: set[str]
    leaked: list


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Loaded:
    raw = tmp_path_factory.mktemp("cases") / "raw"
    build(raw, *PLACED)
    warehouse = raw.parent / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        figures = conn.execute(
            "select source_id, source_row, figure_id from raw.figures order by all"
        ).fetchall()
        rejected: dict[str, list] = {}
        for source_id, *fields in conn.execute(
            "select source_id, source_row, column_name, reason, source_file "
            "from raw.figures_rejected order by source_id, source_row nulls first, reason"
        ).fetchall():
            rejected.setdefault(source_id, []).append(tuple(fields))
        sources = {s for (s,) in conn.execute("select source_id from raw.sources").fetchall()}
        # nothing from outside raw/ is stored, whatever a case tried
        leaked = in_database(conn, OUTSIDE_MARKER)
        if PASSWD_LINE:
            leaked += in_database(conn, PASSWD_LINE)
    return Loaded(figures, rejected, sources, leaked)


def test_one_load_of_every_case_loads_the_good_sources_in_full(loaded):
    assert loaded.leaked == []
    for name, prefix in GOOD_SOURCES.items():
        assert [(r, f) for s, r, f in loaded.figures if s == name] == [
            (line, f"{prefix}00{line - 1}") for line in (2, 3, 4)
        ]
        assert name not in loaded.rejected
    assert set(GOOD_SOURCES) <= loaded.sources
    # every rejection belongs to a case's folder
    assert set(loaded.rejected) <= {printable(case.folder) for case in PLACED}


@pytest.mark.parametrize("case", PLACED, ids=[c.name for c in CASES])
def test_bad_input_has_the_stated_outcome(loaded, case):
    source_id = printable(case.folder)  # a name that is not UTF-8 is stored escaped
    rejected = loaded.rejected.get(source_id, [])
    # the broken source: exactly the stated lines load, exactly the stated rejections
    assert [r for s, r, _ in loaded.figures if s == source_id] == list(case.loaded)
    assert len(rejected) == len(case.rejected), rejected
    for (line, column, reason, source_file), (want_line, want_column, words) in zip(
        rejected, case.rejected, strict=True
    ):
        assert line == want_line and column == want_column, (line, column, reason)
        assert words in reason, reason
        assert "\n" not in reason.replace(case.folder, "") and ".venv" not in reason, reason
        if line is None:
            assert source_file.endswith(source_id), source_file
        else:  # the reason names the file and the line, as an editor shows them
            assert source_file.endswith(f"{case.folder}/figures.csv"), source_file
            assert f"{case.folder}/figures.csv line {line}: " in reason, reason
    # nothing lost: every record of the file is either loaded or rejected
    kept = {r for r, _, _, _ in rejected if r}
    stored = {r for s, r, _ in loaded.figures if s == source_id} | kept
    assert stored == data_lines(case)
    assert (source_id in loaded.sources) == case.source_loads


def materialize(warehouse: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [raw_tables, figures_match_contract, sources_match_contract],
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "run_lock": RunLock(),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = [
        m for m in result.asset_materializations_for_node("raw_tables")
        if m.asset_key.to_user_string() == asset
    ]  # fmt: skip
    return {key: value.value for key, value in event.metadata.items()}


@pytest.mark.integration
def test_a_bad_row_through_dagster_is_kept_reported_and_skipped_when_unchanged(
    tmp_path, monkeypatch
):
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    case = next(c for c in CASES if c.name == "unknown company")
    build(raw, case)
    monkeypatch.setenv(RAW_DIR_ENV, str(raw))

    first = materialize(warehouse)
    assert first.success
    figures = metadata(first, "raw/figures")
    assert figures["dagster/row_count"] == 8 and figures["reloaded"] is True
    assert figures["sources_reloaded"] == ["a-good", "b-case", "c-good"]
    assert metadata(first, "raw/figures_rejected")["dagster/row_count"] == 1
    checks = {e.check_name: e for e in first.get_asset_check_evaluations()}
    contract = checks["figures_match_contract"]
    assert not contract.passed and contract.severity == dg.AssetCheckSeverity.WARN
    assert contract.metadata["rejected_rows"].value == 1
    assert contract.metadata["invalid_loaded_rows"].value == 0
    assert contract.metadata["pandera_validated_rows"].value == 8
    assert "company 'bytedance'" in contract.metadata["failure_cases"].value
    assert checks["sources_match_contract"].passed

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (stamp,) = conn.execute("select max(loaded_at) from raw.figures").fetchall()[0]
    second = materialize(warehouse)
    assert second.success
    again = metadata(second, "raw/figures")
    assert again["reloaded"] is False and again["sources_unchanged"] == 3
    assert again["sources_reloaded"] == [] and again["dagster/row_count"] == 8
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("select max(loaded_at) from raw.figures").fetchall()[0] == (stamp,)

    # fixing the row reloads that source only
    make_source_fixed = raw / CASE / "figures.csv"
    make_source_fixed.write_text(GOOD_CSV, encoding="utf-8")
    third = materialize(warehouse)
    fixed = metadata(third, "raw/figures")
    assert fixed["sources_reloaded"] == [CASE] and fixed["sources_unchanged"] == 2
    assert fixed["dagster/row_count"] == 9
    # pandera re-validates the figures of the latest load: the reloaded source's
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        ((latest,),) = conn.execute(
            "select count(*) from raw.figures where loaded_at = (select max(loaded_at) from raw.figures)"
        ).fetchall()
    checks = {e.check_name: e for e in third.get_asset_check_evaluations()}
    assert 0 < latest < 9
    assert checks["figures_match_contract"].metadata["pandera_validated_rows"].value == latest
    checks = {e.check_name: e for e in third.get_asset_check_evaluations()}
    assert checks["figures_match_contract"].passed


OPTIMIZER_CASES = [
    "unknown company",
    "a NUL byte in a quote",
    "a date with slashes",
    "quote does not state the value",
    "duplicate id across sources",
]


@pytest.mark.parametrize("name", OPTIMIZER_CASES)
def test_the_check_gives_the_same_rows_whether_duckdb_optimizes_it_or_not(
    tmp_path, monkeypatch, name
):
    """Small loads read their rows once into a table and run the check unoptimized
    (contract_check.OPTIMIZE_FROM_ROWS): the rows and reasons must be those of the optimized
    query over the rows as stored that large loads run."""
    case = next(c for c in CASES if c.name == name)
    build(tmp_path / "raw", case)

    def outcome(threshold: int, warehouse: Path) -> tuple[list, list]:
        monkeypatch.setattr(contract_check, "OPTIMIZE_FROM_ROWS", threshold)
        with duckdb.connect(str(warehouse)) as conn:
            load_raw(conn, tmp_path / "raw")
            figures = "select * exclude (loaded_at) from raw.figures order by all"
            rejected = "select * exclude (loaded_at) from raw.figures_rejected order by all"
            return conn.execute(figures).fetchall(), conn.execute(rejected).fetchall()

    unoptimized = outcome(10**9, tmp_path / "unoptimized.duckdb")
    assert unoptimized == outcome(0, tmp_path / "optimized.duckdb")
    assert unoptimized[1]  # the case is rejected somewhere
