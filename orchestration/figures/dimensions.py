"""The conformed business lines, and which rows of a figures.csv name something they do not know.

Sources name the same business their own way (营销服务, 广告, "Marketing services"), and file it
under different segments (Tencent's international games: overseas in one, games in the next).
`dbt_project/seeds/lookup_businesses.csv` lists each company's business lines once, each with a
home segment, and `lookup_business_aliases.csv` the other names sources use. A figure joins the
line one of its names names (English first, then Chinese); a figure without a name, or whose
scope is the whole segment, joins the company's whole-segment line of its segment. The
warehouse does the same in SQL (`int_figures_joined`); this module is the same rule in Python,
so that `make check-source` can say, before a load, which rows would stand apart from every
known series, and what the nearest known name is.

It reads the seed CSVs directly: checking a folder never needs dbt.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

from orchestration.paths import SEEDS_DIR

BUSINESSES_FILE = "lookup_businesses.csv"
ALIASES_FILE = "lookup_business_aliases.csv"
METRICS_FILE = "lookup_metrics.csv"


def name_key(name: str) -> str:
    """How names are compared: case and spaces aside (AI 云服务 is AI云服务). The SQL macro
    `business_name_key` (dbt_project/macros/business_names.sql) is the same rule."""
    return name.replace(" ", "").replace("\u3000", "").replace("\u00a0", "").lower()


@dataclass(frozen=True)
class BusinessLine:
    """One business of one company, with its home segment and every name sources use for it."""

    business_id: str
    company_id: str
    segment_id: str
    is_whole_segment: bool
    name_en: str
    name_zh: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name_en, self.name_zh, *self.aliases)


@dataclass(frozen=True)
class Businesses:
    """The business lines of every company, looked up by name and by whole segment."""

    lines: tuple[BusinessLine, ...]

    def of(self, company: str) -> list[BusinessLine]:
        return [line for line in self.lines if line.company_id == company]

    def named(self, company: str, name: str | None) -> BusinessLine | None:
        """The company's line that has this name (or alias), if any."""
        if not name or not name.strip():
            return None
        key = name_key(name)
        return next((ln for ln in self.of(company) if key in {name_key(n) for n in ln.names}), None)

    def whole_segment(self, company: str, segment: str) -> BusinessLine | None:
        """The line that is the company's whole segment, if the dimension has one."""
        return next(
            (ln for ln in self.of(company) if ln.is_whole_segment and ln.segment_id == segment),
            None,
        )

    def nearest(self, company: str, name: str) -> tuple[str, BusinessLine] | None:
        """The company's known name most like `name` (difflib), and its line."""
        candidates = [(n, ln) for ln in self.of(company) for n in ln.names]
        if not candidates:
            return None
        key = name_key(name)
        return max(candidates, key=lambda c: SequenceMatcher(None, key, name_key(c[0])).ratio())


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def load_businesses(seeds_dir: Path = SEEDS_DIR) -> Businesses:
    """The business lines and their aliases, from the seed CSVs."""
    aliases: dict[str, list[str]] = {}
    for row in _read(seeds_dir / ALIASES_FILE):
        aliases.setdefault(row["business_id"], []).append(row["alias"])
    return Businesses(
        tuple(
            BusinessLine(
                business_id=row["business_id"],
                company_id=row["company_id"],
                segment_id=row["segment_id"],
                is_whole_segment=row["is_whole_segment"].strip().lower() == "true",
                name_en=row["business_name_en"],
                name_zh=row["business_name_zh"],
                aliases=tuple(aliases.get(row["business_id"], ())),
            )
            for row in _read(seeds_dir / BUSINESSES_FILE)
        )
    )


@cache
def load_metric_names(seeds_dir: Path = SEEDS_DIR) -> dict[str, str]:
    """Every metric key and English name, each mapped to its key."""
    names = {}
    for row in _read(seeds_dir / METRICS_FILE):
        names[row["metric_id"]] = row["metric_id"]
        names.setdefault(row["name_en"], row["metric_id"])
    return names


@dataclass(frozen=True)
class Resolution:
    """Which line a row joins, and by which rule (None: a line of its own)."""

    line: BusinessLine | None
    by: str | None  # "business", "business_zh", "scope" or None


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def resolve(
    businesses: Businesses,
    company: str,
    segment: str,
    scope: str,
    business: str | None,
    business_zh: str | None,
) -> Resolution:
    """The business line a figure joins: by its English name, else its Chinese name, else (a
    figure of the whole segment) the company's whole-segment line of its segment."""
    for column, name in (("business", business), ("business_zh", business_zh)):
        line = businesses.named(company, name)
        if line is not None:
            return Resolution(line, column)
    if scope == "segment":
        line = businesses.whole_segment(company, segment)
        if line is not None:
            return Resolution(line, "scope")
    return Resolution(None, None)


@dataclass(frozen=True)
class DimensionWarning:
    """A row that names a business or metric the dimensions do not know."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _joins(resolution: Resolution, company: str, segment: str, scope: str) -> str:
    line = resolution.line
    if line is None and scope == "segment":
        return (
            f"the row joins {company}|{segment}|, a provisional line of {company}'s whole "
            f"{segment} segment, with every row of that segment that no line names"
        )
    if line is None:
        return "the row becomes a business line of its own, apart from every series of the marts"
    if resolution.by == "scope":
        return (
            f"the row still joins {line.business_id}, {company}'s whole {line.segment_id} "
            "segment, by its scope"
        )
    return f"the row still joins {line.business_id} ({line.name_en!r}) by its {resolution.by}"


def _unknown_name(businesses: Businesses, company: str, column: str, name: str, joins: str) -> str:
    nearest = businesses.nearest(company, name)
    hint = f"nearest: {nearest[0]!r} ({nearest[1].business_id})" if nearest else "none is close"
    return (
        f"{column} {name!r} is not a name of any {company} business line in {BUSINESSES_FILE} "
        f"or {ALIASES_FILE} ({hint}); {joins}. Add the name to {ALIASES_FILE} if it is that "
        f"business, or add a line to {BUSINESSES_FILE} (raw/README.md)"
    )


def row_warnings(
    row: dict[str, str], line: int, businesses: Businesses, metrics: dict[str, str]
) -> list[DimensionWarning]:
    """What one figures.csv row names that the business or metric dimension does not know."""
    found: list[DimensionWarning] = []
    company = (row.get("company") or "").strip()
    segment = (row.get("segment") or "").strip()
    scope = (row.get("scope") or "").strip()
    business, business_zh = row.get("business"), row.get("business_zh")
    known_company = bool(businesses.of(company))
    if known_company:
        resolution = resolve(businesses, company, segment, scope, business, business_zh)
        joins = _joins(resolution, company, segment, scope)
        for column, name in (("business", business), ("business_zh", business_zh)):
            if not _blank(name) and businesses.named(company, name) is None:
                message = _unknown_name(businesses, company, column, name.strip(), joins)
                found.append(DimensionWarning(line, column, message))
        en = businesses.named(company, business)
        zh = businesses.named(company, business_zh)
        if en is not None and zh is not None and en != zh:
            found.append(
                DimensionWarning(
                    line,
                    "business_zh",
                    f"business {business!r} is {en.business_id} but business_zh "
                    f"{business_zh!r} is {zh.business_id}: the row joins {en.business_id} "
                    "(the English name wins); make both name the same business",
                )
            )
        if _blank(business) and _blank(business_zh) and resolution.line is None:
            if scope == "unit":
                reason = "scope 'unit' says the row is a part of the segment, but names no part"
            else:
                reason = (
                    f"{company} has no whole-segment business line for segment {segment!r} "
                    f"in {BUSINESSES_FILE}"
                )
            found.append(
                DimensionWarning(
                    line,
                    "business",
                    f"{reason}: {joins}; name the business, or add a line to "
                    f"{BUSINESSES_FILE} (raw/README.md)",
                )
            )
    metric = (row.get("metric") or "").strip()
    if metric and metric not in metrics.values():
        nearest = max(metrics, key=lambda n: SequenceMatcher(None, metric, n.lower()).ratio())
        found.append(
            DimensionWarning(
                line,
                "metric",
                f"metric {metric!r} is not in {METRICS_FILE}; nearest: {metrics[nearest]!r}"
                + (f" ({nearest})" if nearest != metrics[nearest] else "")
                + f". Use that key, or add a line to dbt_project/seeds/{METRICS_FILE}",
            )
        )
    return found


def figures_warnings(path: Path, seeds_dir: Path = SEEDS_DIR) -> list[DimensionWarning]:
    """Every row of a figures.csv that names an unknown business or metric (read as text:
    rows the contract rejects are checked too). An unreadable file gives none; the contract
    check says what is wrong with it."""
    businesses, metrics = load_businesses(seeds_dir), load_metric_names(seeds_dir)
    found: list[DimensionWarning] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                found += row_warnings(row, reader.line_num, businesses, metrics)
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    return found
