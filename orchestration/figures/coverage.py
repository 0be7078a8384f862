"""Coverage: is every number in a source's text either a curated figure or set aside for a reason?

A number counts as covered when it lies inside an occurrence of a figure's quote and states that
figure's value; when it is part of a date or period (2024 年, 第四季度, the fourth quarter); or
when it lies inside a snippet listed in the source's exclusions.csv, with the reason there (a
price band, a product name, a definition's threshold, ...). Whatever is left is uncovered: a
figure the curator missed, or an exclusion not yet written down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestration.confine import Refused, file_in_folder, read_limited, shown
from orchestration.figures.csv_records import MalformedCsv, numbered_records
from orchestration.figures.numbers import RANK, Mention, mentions, same_value
from orchestration.figures.numbers import kind_for_unit as _kind_for_unit
from orchestration.figures.provenance import SourceText
from orchestration.limits import (
    MAX_FIELD_CHARS,
    MAX_FILE_BYTES,
    control_character,
    control_message,
    length_message,
)

FIGURE, DATE, EXCLUDED, UNCOVERED = "figure", "date", "excluded", "uncovered"
LANGUAGES = ("zh", "en")
EXCLUSION_COLUMNS = ("language", "quote", "reason")

_DATES = {
    "zh": [
        r"\d{4}-\d{1,2}-\d{1,2}",
        r"\d{1,2}:\d{2}(?::\d{2})?",
        r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]",
        r"(?:\d{4}|FY\s*\d{2,4})\s*财年|第?[一二三四]\s*财季",
        r"\d{4}\s*年(?:\s*\d{1,2}(?:\s*-\s*\d{1,2})?\s*月)?",
        r"\d{1,2}(?:\s*-\s*\d{1,2})?\s*月",
        r"第?[一二三四]季度",
        r"[一两三四五六七八九十]+个季度",
        r"\d{1,2}\s*世纪",
    ],
    "en": [
        r"\d{4}-\d{1,2}-\d{1,2}",
        r"\b\d{1,2}:\d{2}(?::\d{2})?\b",
        r"\b(?:19|20)\d{2}\b(?!\s*(?:billion|million|thousand|%|units|yuan))",
        r"\b(?:first|second|third|fourth|last)\s+quarter\b",
        r"\bQ[1-4]\b",
        r"\b\d{1,2}(?:st|nd|rd|th)\s+century\b",
    ],
}


@dataclass(frozen=True)
class Exclusion:
    """A snippet of the text whose numbers are not figures, and why."""

    language: str
    quote: str
    reason: str


@dataclass(frozen=True)
class Covered:
    """One number of the text and how it is accounted for."""

    language: str
    start: int
    end: int
    number: str
    value: float
    kind: str
    status: str
    detail: str  # the figure ids, the exclusion's reason, or the date's text
    context: str


class ExclusionsProblem(Refused):
    """What is wrong with an exclusions.csv, naming the file and the line."""


def read_exclusions(path: Path) -> list[Exclusion]:
    """raw/<source_id>/exclusions.csv (language, quote, reason); none when the file is absent.

    Raises ExclusionsProblem (a ValueError) naming the file, and the line where there is one,
    when the file is a link out of its folder, too large, not UTF-8 or breaks the format.
    """
    try:
        if not path.exists() and not path.is_symlink():
            return []
        target = file_in_folder(path, path.parent)
        data = read_limited(target, MAX_FILE_BYTES["exclusions.csv"], "exclusions.csv", path)
    except Refused as error:
        raise ExclusionsProblem(str(error)) from error
    except OSError as error:
        raise ExclusionsProblem(f"{shown(path)} cannot be read ({error.strerror})") from error
    return parse_exclusions(data, shown(path))


def parse_exclusions(data: bytes, where: str) -> list[Exclusion]:
    """The exclusions of an exclusions.csv's bytes; ExclusionsProblem at the first fault."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ExclusionsProblem(
            f"{where} is not UTF-8 (line {line}, byte 0x{data[error.start]:02x}): "
            "re-save it as UTF-8"
        ) from error
    try:
        header, rows = numbered_records(text, where)
    except MalformedCsv as error:
        raise ExclusionsProblem(str(error)) from error
    missing = [c for c in EXCLUSION_COLUMNS if c not in header]
    unknown = [c for c in header if c not in EXCLUSION_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        wrong = f"missing column {missing[0]!r}" if missing else "unknown or repeated column"
        raise ExclusionsProblem(f"{where}: {wrong} in the header (columns: language,quote,reason)")
    exclusions = []
    for start, fields in rows:
        at = f"{where} line {start}"
        if len(fields) != len(header):
            raise ExclusionsProblem(
                f"{at}: {len(fields)} fields where the header has {len(header)}; "
                "quote values that contain commas"
            )
        row = dict(zip(header, fields, strict=True))
        for column in EXCLUSION_COLUMNS:
            if len(row[column]) > MAX_FIELD_CHARS:
                raise ExclusionsProblem(f"{at}: {length_message(column, len(row[column]))}")
            if (character := control_character(row[column])) is not None:
                raise ExclusionsProblem(f"{at}: {control_message(column, character)}")
        if row["language"] not in LANGUAGES or not row["quote"] or not row["reason"]:
            raise ExclusionsProblem(f"{at}: language must be zh or en, quote and reason not empty")
        exclusions.append(Exclusion(row["language"], row["quote"], row["reason"]))
    return exclusions


def _occurrences(text: str, snippet: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(re.escape(snippet), text)] if snippet else []


def _inside(mention: Mention, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start <= mention.start and mention.end <= end for start, end in spans)


def _overlaps(mention: Mention, spans: Iterable[tuple[int, int]]) -> bool:
    return any(mention.start < end and start < mention.end for start, end in spans)


def _states(mention: Mention, value: float, unit: str) -> bool:
    wanted = _kind_for_unit(unit)
    kind_ok = mention.kind == wanted or (wanted == RANK and mention.kind != "percent")
    return kind_ok and same_value(mention.value, abs(value))


def coverage(
    text: SourceText,
    figures: Iterable[Mapping[str, object]],
    exclusions: Iterable[Exclusion] = (),
) -> list[Covered]:
    """Every number of both parts of the text, with how it is covered (or that it is not)."""
    figures = list(figures)
    exclusions = list(exclusions)
    result = []
    for language in LANGUAGES:
        part = text.part(language)
        if not part:
            continue
        # A figure whose English states another value still accounts for that number.
        quotes = [
            (str(f["figure_id"]), float(f["value"]), str(f["unit"]), q, disagrees)
            for f in figures
            if (q := f.get(f"quote_{language}"))
            for disagrees in [language == "en" and f.get("translation_discrepancy") == "value"]
        ]
        spans = {q: _occurrences(part, q) for *_, q, _ in quotes}
        dates = [m.span() for p in _DATES[language] for m in re.finditer(p, part, re.IGNORECASE)]
        excluded = [
            (span, e.reason)
            for e in exclusions
            if e.language == language
            for span in _occurrences(part, e.quote)
        ]
        for mention in mentions(part, language):
            ids = [
                figure_id
                for figure_id, value, unit, quote, disagrees in quotes
                if _inside(mention, spans[quote]) and (disagrees or _states(mention, value, unit))
            ]
            reasons = [reason for span, reason in excluded if _inside(mention, [span])]
            if ids:
                status, detail = FIGURE, ",".join(sorted(set(ids)))
            elif _overlaps(mention, dates):
                status, detail = DATE, "a date or period"
            elif reasons:
                status, detail = EXCLUDED, reasons[0]
            else:
                status, detail = UNCOVERED, ""
            context = part[max(0, mention.start - 15) : mention.end + 15].replace("\n", " ")
            result.append(
                Covered(
                    language,
                    mention.start,
                    mention.end,
                    mention.text,
                    mention.value,
                    mention.kind,
                    status,
                    detail,
                    context.strip(),
                )  # fmt: skip
            )
    return result


def unused_exclusions(text: SourceText, exclusions: Iterable[Exclusion]) -> list[Exclusion]:
    """Exclusions whose snippet is not in the text: typos, or left over from an edit."""
    return [e for e in exclusions if e.quote not in text.part(e.language)]


def summary(rows: list[Covered]) -> dict[str, dict[str, int]]:
    """Counts per language and status, and the share of numbers covered, in percent."""
    result: dict[str, dict[str, int]] = {}
    for language in LANGUAGES:
        mine = [r for r in rows if r.language == language]
        if not mine:
            continue
        counts = {
            s: sum(1 for r in mine if r.status == s) for s in (FIGURE, DATE, EXCLUDED, UNCOVERED)
        }
        counts["numbers"] = len(mine)
        counts["covered_pct"] = round(100 * (len(mine) - counts[UNCOVERED]) / len(mine), 1)
        result[language] = counts
    return result
