"""The allowed keys of companies, segments, metrics, units and measures.

They are read from the dbt seeds, so a new metric or company is one line in a CSV, and the
pandera schema and the dbt relationship tests can never disagree about what is valid.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from orchestration.paths import SEEDS_DIR


@dataclass(frozen=True)
class Reference:
    companies: tuple[str, ...]
    segments: tuple[str, ...]
    units: tuple[str, ...]
    measures: tuple[str, ...]
    metric_units: dict[str, str]  # metric_id -> the unit its level is stated in
    monetary_units: tuple[str, ...] = ()  # units of money (is_monetary in lookup_units.csv)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.metric_units)


def _column(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


@cache
def load_reference(seeds_dir: Path = SEEDS_DIR) -> Reference:
    """Read the seed CSVs once per process."""
    with (seeds_dir / "lookup_metrics.csv").open(encoding="utf-8", newline="") as handle:
        metric_units = {row["metric_id"]: row["unit_id"] for row in csv.DictReader(handle)}
    return Reference(
        companies=tuple(_column(seeds_dir / "lookup_companies.csv", "company_id")),
        segments=tuple(_column(seeds_dir / "lookup_segments.csv", "segment_id")),
        units=tuple(_column(seeds_dir / "lookup_units.csv", "unit_id")),
        measures=tuple(_column(seeds_dir / "lookup_measures.csv", "measure_id")),
        metric_units=metric_units,
        monetary_units=tuple(
            unit
            for unit, monetary in zip(
                _column(seeds_dir / "lookup_units.csv", "unit_id"),
                _column(seeds_dir / "lookup_units.csv", "is_monetary"),
                strict=True,
            )
            if monetary.strip().lower() == "true"
        ),
    )
