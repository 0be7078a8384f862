"""Synthetic corpora for the benchmarks: deterministic, clearly marked synthetic, any size.

    python -m benchmarks.generate --figures 1000000 --out /tmp/corpus-1e6

Each corpus is a raw/ folder of source folders (10,000 figures each at most), whose figures
follow the contract: keys from the seeds, values in base units, quotes that state them (mostly
as numbers, 1159.5 亿元 or 12.5%; one row in 200 as a word, 翻倍 / doubled). Each business line
gets its revenue and its growth rate, as articles give them; as later reports do, 2% of a
source's lines restate a line of the previous source with the same figures and 0.2% with a
revised revenue. None of it is real: every source says so in its citation and every figure in
its note.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from orchestration.schemas.figures import COLUMNS

COMPANIES = ("tencent", "alibaba", "jd", "pdd", "bilibili", "kuaishou", "xiaomi", "baidu")
SEGMENTS = ("games", "video", "ecommerce", "hardware", "advertising", "overseas", "ai")
PER_SOURCE = 10_000
# Part of a source's business lines that restate one of the previous source's, as later reports
# do: most with the same figures, a few with a revised revenue (a conflict between sources).
RESTATED_SAME = 0.02
RESTATED_CHANGED = 0.002
# Bump when the rows change: the benchmark caches corpora under it.
VERSION = 2


def _line(rng: random.Random, source: int, k: int) -> tuple[dict, int, float]:
    """A new business line in one period: its labels, revenue (tenths of 亿元) and growth."""
    company = COMPANIES[rng.randrange(len(COMPANIES))]
    segment = SEGMENTS[rng.randrange(len(SEGMENTS))]
    year = 2015 + rng.randrange(10)
    quarter = rng.randrange(5)  # 0: the whole year
    period, start, end = (
        (str(year), f"{year}-01-01", f"{year}-12-31")
        if quarter == 0
        else (
            f"{year}Q{quarter}",
            f"{year}-{3 * quarter - 2:02d}-01",
            f"{year}-{3 * quarter:02d}-{31 if quarter in (1, 4) else 30}",
        )
    )
    base = {
        "company": company, "business": f"Business {source}-{k}",
        "business_zh": f"业务 {source}-{k}", "scope": "unit", "segment": segment,
        "period": period, "period_start": start, "period_end": end,
        "translation_discrepancy": "", "note": "synthetic",
    }  # fmt: skip
    return base, rng.randrange(10, 20000), rng.randrange(-500, 1500) / 10


def _rows(rng: random.Random, source: int, count: int, previous: list, lines: list):
    """`count` rows: per business line, its revenue, then its growth rate (the pair from which
    the marts derive the prior year's revenue). `previous` holds the previous source's lines,
    which some lines restate; the lines of this source are appended to `lines`."""
    for k in range((count + 1) // 2):
        draw = rng.random()
        if previous and draw < RESTATED_SAME + RESTATED_CHANGED:
            base, tenths, growth = previous[rng.randrange(len(previous))]
            if draw >= RESTATED_SAME:  # revised: a conflict the marts list
                tenths += 1 + rng.randrange(100)
        else:
            base, tenths, growth = _line(rng, source, k)
            if k % 100 == 0:  # 0.5 % of rows: growth in a word, left by SQL to the Python parser
                growth = None
        lines.append((base, tenths, growth))
        yield {
            **base,
            "metric": "revenue", "measure": "level", "unit": "CNY", "qualifier": "exact",
            "value": str(tenths * 10_000_000),
            "quote_zh": f"收入 {tenths / 10:g} 亿元",
            "quote_en": f"revenue of {tenths / 100:g} billion yuan",
        }  # fmt: skip
        if 2 * k + 1 == count:
            return
        if growth is None:
            yield {
                **base,
                "metric": "revenue", "measure": "yoy_growth", "unit": "percent",
                "qualifier": "exact", "value": "100",
                "quote_zh": "同比翻倍", "quote_en": "doubled year on year",
            }  # fmt: skip
        else:
            yield {
                **base,
                "metric": "revenue", "measure": "yoy_growth", "unit": "percent",
                "qualifier": "exact", "value": f"{growth:g}",
                "quote_zh": f"同比增长 {abs(growth):g}%",
                "quote_en": f"up {abs(growth):g}% year on year",
            }  # fmt: skip


def write_source(folder: Path, figures: int, seed: int) -> Path:
    """One more source folder of `figures` figures, ids of its own (the daily new article)."""
    rng = random.Random(seed)
    source_id = folder.name
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(_source_yaml(source_id), encoding="utf-8")
    with (folder / "figures.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for i, row in enumerate(_rows(rng, 99_999, figures, [], [])):
            writer.writerow({"figure_id": f"{source_id}-{i:05d}", **row})
    return folder


def _source_yaml(source_id: str) -> str:
    return (
        f"source_id: {source_id}\n"
        'title_en: "Synthetic benchmark source"\n'
        'publisher: "Benchmarks (synthetic data)"\n'
        "publication_date: 2025-01-01\n"
        "languages: [zh, en]\n"
        "authoritative_language: zh\n"
        'citation: "Synthetic benchmark data, not a real publication."\n'
    )


def generate(figures: int, out: Path, seed: int = 20241231) -> list[Path]:
    """Write a corpus of `figures` figures under `out`; the folders written."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    folders, previous = [], []
    for source in range(max(1, -(-figures // PER_SOURCE))):
        count = min(PER_SOURCE, figures - source * PER_SOURCE)
        source_id = f"synthetic-{source:05d}"
        folder = out / source_id
        folder.mkdir(exist_ok=True)
        (folder / "source.yaml").write_text(_source_yaml(source_id), encoding="utf-8")
        with (folder / "figures.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COLUMNS), lineterminator="\n")
            writer.writeheader()
            lines: list = []
            for i, row in enumerate(_rows(rng, source, count, previous, lines)):
                writer.writerow({"figure_id": f"syn{source:05d}-{i:05d}", **row})
        previous = lines
        folders.append(folder)
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20241231)
    args = parser.parse_args()
    folders = generate(args.figures, args.out, args.seed)
    print(f"{args.figures} synthetic figures in {len(folders)} source folders under {args.out}")


if __name__ == "__main__":
    main()
